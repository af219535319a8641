-- Data completeness behind every indicator row: the agencies the province expects a report
-- from that year (the register, int_agency_years_in_scope; for the spokesperson indicator only
-- the state administrative ones), and how many of them reported at least one of the
-- indicator's measures for the year. Recommendation statuses are not expected from provincial
-- agencies, so they have no expected count.
with

grid as (

    select * from {{ ref('int_indicator_grid') }}

),

indicator_measures as (

    select * from {{ ref('int_indicator_measures') }}

),

agencies_in_scope as (

    select * from {{ ref('int_agency_years_in_scope') }}
    where is_expected_to_report

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

final as (

    select
        grid.indicator_code,
        grid.series,
        grid.province_code,
        grid.year,
        case
            when grid.computation <> 'recommendation_status' then coalesce(counted.agencies_reported, 0)
        end::integer as agencies_reported,
        case
            when grid.computation <> 'recommendation_status' then coalesce(counted.agencies_expected, 0)
        end::integer as agencies_expected
    from grid
    left join counted
        on
            grid.indicator_code = counted.indicator_code
            and grid.series = counted.series
            and grid.province_code = counted.province_code
            and grid.year = counted.year

)

select * from final
