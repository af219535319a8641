-- Data completeness and coverage behind every indicator row: whether the province has an agency
-- register for the year (int_agency_years_in_scope: any agency on the year's reference date);
-- the agencies it expects a report from that year (for the spokesperson indicator only the state
-- administrative ones), and how many of them reported at least one of the indicator's measures
-- for the year. Recommendation statuses are not expected from provincial agencies, so they have
-- no expected count. A national row sums the agencies of the current provinces with a register
-- and counts the current provinces: all of them, those with a register, and those with data
-- for the indicator and year (int_indicator_values_by_province_year), a province without a
-- register never among them; coverage_rate is the last out of all.
with

grid as (

    select * from {{ ref('int_indicator_grid') }}

),

indicator_measures as (

    select * from {{ ref('int_indicator_measures') }}

),

registered_agencies as (

    select * from {{ ref('int_agency_years_in_scope') }}

),

agencies_in_scope as (

    select * from registered_agencies
    where is_expected_to_report

),

indicator_values as (

    select * from {{ ref('int_indicator_values_by_province_year') }}

),

registers as (

    select distinct
        series,
        province_code,
        year
    from registered_agencies

),

latest as (

    select * from {{ ref('int_submissions_latest') }}

),

indicators as (

    select distinct
        indicator_code,
        computation
    from grid
    where computation <> 'recommendation_status'

),

indicator_reports as (

    select distinct
        indicator_measures.indicator_code,
        latest.agency_code,
        latest.period_year as year
    from latest
    inner join indicator_measures
        on latest.measure_code = indicator_measures.measure_code
    where latest.is_used_for_year

),

expected as (

    select
        indicators.indicator_code,
        agencies_in_scope.series,
        agencies_in_scope.province_code,
        agencies_in_scope.year,
        agencies_in_scope.agency_code,
        indicator_reports.agency_code is not null as has_reported
    from agencies_in_scope
    inner join indicators
        on indicators.computation <> 'agency_share' or agencies_in_scope.is_state_administrative
    left join indicator_reports
        on
            indicators.indicator_code = indicator_reports.indicator_code
            and agencies_in_scope.agency_code = indicator_reports.agency_code
            and agencies_in_scope.year = indicator_reports.year

),

provinces as (

    select
        indicator_code,
        series,
        province_code,
        year,
        count(*) filter (where has_reported) as agencies_reported,
        count(*) as agencies_expected
    from expected
    group by indicator_code, series, province_code, year

),

provinces_covered as (

    select
        grid.indicator_code,
        grid.year,
        count(*) as provinces_total,
        count(registers.province_code) as provinces_with_register,
        count(registers.province_code) filter (where indicator_values.has_data) as provinces_reporting
    from grid
    left join registers
        on
            grid.series = registers.series
            and grid.province_code = registers.province_code
            and grid.year = registers.year
    left join indicator_values
        on
            grid.indicator_code = indicator_values.indicator_code
            and grid.series = indicator_values.series
            and grid.province_code = indicator_values.province_code
            and grid.year = indicator_values.year
    where grid.series = 'current'
    group by grid.indicator_code, grid.year

),

counted as (

    select * from provinces

    union all

    select
        indicator_code,
        'national' as series,
        '00' as province_code,
        year,
        sum(agencies_reported) as agencies_reported,
        sum(agencies_expected) as agencies_expected
    from provinces
    where series = 'current'
    group by indicator_code, year

),

joined as (

    select
        grid.indicator_code,
        grid.series,
        grid.province_code,
        grid.year,
        grid.computation,
        case
            when grid.series = 'national' then coalesce(provinces_covered.provinces_with_register, 0) > 0
            else registers.province_code is not null
        end as has_register,
        counted.agencies_reported,
        counted.agencies_expected,
        provinces_covered.provinces_reporting,
        provinces_covered.provinces_with_register,
        provinces_covered.provinces_total
    from grid
    left join counted
        on
            grid.indicator_code = counted.indicator_code
            and grid.series = counted.series
            and grid.province_code = counted.province_code
            and grid.year = counted.year
    left join registers
        on
            grid.series = registers.series
            and grid.province_code = registers.province_code
            and grid.year = registers.year
    left join provinces_covered
        on
            grid.indicator_code = provinces_covered.indicator_code
            and grid.year = provinces_covered.year
            and grid.series = 'national'

),

final as (

    select
        indicator_code,
        series,
        province_code,
        year,

        -- register
        has_register,

        -- agencies: unknown without a register; none are expected to report recommendations
        case
            when computation <> 'recommendation_status' and has_register then coalesce(agencies_reported, 0)
        end::integer as agencies_reported,
        case
            when computation <> 'recommendation_status' and has_register then coalesce(agencies_expected, 0)
        end::integer as agencies_expected,

        -- provinces (national rows)
        provinces_reporting::integer as provinces_reporting,
        provinces_with_register::integer as provinces_with_register,
        provinces_total::integer as provinces_total,
        trim_scale(100.0 * provinces_reporting / nullif(provinces_total, 0)) as coverage_rate

    from joined

)

select * from final
