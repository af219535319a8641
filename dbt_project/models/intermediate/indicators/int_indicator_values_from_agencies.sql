-- Shares of agencies (agency_share, the spokesperson mechanism): of the state administrative
-- agencies a province expects a report from that year (int_agency_years_in_scope), those whose
-- figure for the year is 1. An agency in scope that did not report counts as not running the
-- mechanism; the year has data when at least one agency in scope reported the flag. National
-- rows are a ratio of sums over the current provinces with data (ref_national_rules:
-- ratio_of_sums): the agencies of a province where nobody reported are in neither sum.
with

grid as (

    select * from {{ ref('int_indicator_grid') }}
    where computation = 'agency_share'

),

indicator_measures as (

    select * from {{ ref('int_indicator_measures') }}

),

agencies_in_scope as (

    select * from {{ ref('int_agency_years_in_scope') }}
    where is_state_administrative and is_expected_to_report

),

latest as (

    select * from {{ ref('int_submissions_latest') }}

),

indicators as (

    select distinct indicator_code from grid

),

flags as (

    select
        indicator_measures.indicator_code,
        latest.agency_code,
        latest.period_year as year,
        max(latest.measure_value) as flag_value
    from latest
    inner join indicator_measures
        on
            latest.measure_code = indicator_measures.measure_code
            and indicator_measures.measure_role = 'numerator'
    where latest.is_used_for_year
    group by indicator_measures.indicator_code, latest.agency_code, latest.period_year

),

agency_flags as (

    select
        indicators.indicator_code,
        agencies_in_scope.series,
        agencies_in_scope.province_code,
        agencies_in_scope.year,
        agencies_in_scope.agency_code,
        flags.flag_value
    from agencies_in_scope
    cross join indicators
    left join flags
        on
            indicators.indicator_code = flags.indicator_code
            and agencies_in_scope.agency_code = flags.agency_code
            and agencies_in_scope.year = flags.year

),

provinces as (

    select
        indicator_code,
        series,
        province_code,
        year,
        count(*) filter (where flag_value >= 1) as agencies_with_flag,
        count(*) as agencies_in_scope,
        count(flag_value) as agencies_reporting
    from agency_flags
    group by indicator_code, series, province_code, year

),

counted as (

    select * from provinces

    union all

    select
        indicator_code,
        'national' as series,
        '00' as province_code,
        year,
        sum(agencies_with_flag) as agencies_with_flag,
        sum(agencies_in_scope) as agencies_in_scope,
        sum(agencies_reporting) as agencies_reporting
    from provinces
    where series = 'current' and agencies_reporting > 0
    group by indicator_code, year

),

fractions as (

    select
        grid.indicator_code,
        grid.series,
        grid.province_code,
        grid.year,
        coalesce(counted.agencies_reporting, 0) > 0 as has_data,
        counted.agencies_with_flag,
        counted.agencies_in_scope
    from grid
    left join counted
        on
            grid.indicator_code = counted.indicator_code
            and grid.series = counted.series
            and grid.province_code = counted.province_code
            and grid.year = counted.year

),

final as (

    select
        indicator_code,
        series,
        province_code,
        year,
        case when has_data then agencies_with_flag end::numeric as numerator,
        case when has_data then agencies_in_scope end::numeric as denominator,
        -- trim_scale: 100 rather than 100.000..., the same number
        trim_scale(case when has_data then 100.0 * agencies_with_flag / nullif(agencies_in_scope, 0) end)
            as indicator_value,
        has_data
    from fractions

)

select * from final
