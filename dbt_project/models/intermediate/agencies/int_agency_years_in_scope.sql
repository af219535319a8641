-- The agencies each province expects a report from for a year: those of the register that are
-- active on the year's reference date, the last day of the year (for a legacy province, the
-- last day it existed that year, 2025-06-30 for 2025). Agencies that ended earlier in the year
-- (district committees in 2025) are not expected for that year's report.
with

agencies as (

    select * from {{ ref('int_agencies_effective_dated') }}

),

indicators as (

    select * from {{ ref('ref_indicators') }}

),

province_periods as (

    select * from {{ ref('int_province_periods') }}

),

years as (

    select generate_series(min(baseline_year), max(target_year))::integer as year
    from indicators

),

legacy_end as (

    select max(valid_to) as last_day
    from province_periods
    where province_period = 'legacy'

),

reference_dates as (

    select
        'current' as series,
        years.year,
        make_date(years.year, 12, 31) as reference_date
    from years

    union all

    select
        'legacy' as series,
        years.year,
        least(make_date(years.year, 12, 31), legacy_end.last_day) as reference_date
    from years
    cross join legacy_end
    where years.year <= extract(year from legacy_end.last_day)

),

matched as (

    select
        reference_dates.series,
        reference_dates.year,
        reference_dates.reference_date,
        agencies.agency_code,
        agencies.agency_version_key,
        agencies.agency_kind,
        agencies.is_state_administrative,
        agencies.is_expected_to_report,
        case reference_dates.series
            when 'current' then agencies.current_province_code
            when 'legacy' then agencies.legacy_province_code
        end as province_code,
        row_number() over (
            partition by reference_dates.series, reference_dates.year, agencies.agency_code
            order by agencies.valid_from desc
        ) as match_rank
    from reference_dates
    inner join agencies
        on
            reference_dates.reference_date >= agencies.valid_from
            and reference_dates.reference_date <= coalesce(agencies.valid_to, 'infinity'::date)

),

final as (

    select
        series,
        province_code,
        year,
        agency_code,
        agency_version_key,
        agency_kind,
        is_state_administrative,
        is_expected_to_report,
        reference_date
    from matched
    where match_rank = 1 and province_code is not null

)

select * from final
