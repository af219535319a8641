-- Measure totals per province and year, in two series: every row rolled up to the current
-- province its code belongs to (so 2023-2025 data of Quảng Nam counts for Đà Nẵng), and the
-- rows sent under a legacy code kept on that legacy province, for the years it existed.
with

latest as (

    select * from {{ ref('int_submissions_latest') }}

),

province_periods as (

    select * from {{ ref('int_province_periods') }}

),

legacy_last_year as (

    select max(extract(year from valid_to))::integer as last_year
    from province_periods
    where province_period = 'legacy'

),

used as (

    select * from latest
    where is_used_for_year

),

current_series as (

    select
        'current' as series,
        current_province_code as province_code,
        period_year as year,
        measure_code,
        task_code,
        sum(measure_value) as measure_value,
        count(distinct agency_code) as agencies_reporting,
        count(*) as rows_used
    from used
    where current_province_code is not null
    group by current_province_code, period_year, measure_code, task_code

),

legacy_series as (

    select
        'legacy' as series,
        used.legacy_province_code as province_code,
        used.period_year as year,
        used.measure_code,
        used.task_code,
        sum(used.measure_value) as measure_value,
        count(distinct used.agency_code) as agencies_reporting,
        count(*) as rows_used
    from used
    cross join legacy_last_year
    where
        used.legacy_province_code is not null
        and used.period_year <= legacy_last_year.last_year
    group by used.legacy_province_code, used.period_year, used.measure_code, used.task_code

),

final as (

    select * from current_series
    union all
    select * from legacy_series

)

select * from final
