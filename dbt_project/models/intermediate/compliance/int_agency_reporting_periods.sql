-- Each reporting period with the agencies of the register on its last day, and whether each owes
-- a report for it. The rule is the sample generator's and the ingestion's: an agency reports a
-- period when it is in the register on the period's last day, so an agency that closed on
-- 2025-06-30 owes its 2025 quarters up to June but no 2025 annual report. Annual and quarterly
-- reporters both owe the annual report (due 30 November); quarterly reporters also owe each
-- quarter. Agencies marked `none` owe nothing but keep their row, so a report they send anyway
-- still finds its agency.
-- A table: its tests and the compliance marts read it, and as a view each read recomputed it
-- (4.7 s for one not_null test with four years of national data).
{{
    config(
        materialized='table',
        post_hook="analyze {{ this }}",
    )
}}

with

periods as (

    select * from {{ ref('int_reporting_periods') }}

),

agencies as (

    select * from {{ ref('int_agencies_effective_dated') }}

),

matched as (

    select
        periods.*,
        agencies.agency_code,
        agencies.agency_version_key,
        agencies.agency_name,
        agencies.agency_kind,
        agencies.reporting_frequency,
        agencies.current_province_code,
        agencies.legacy_province_code,
        row_number() over (
            partition by agencies.agency_code, periods.period
            order by agencies.valid_from desc
        ) as match_rank
    from periods
    inner join agencies
        on
            periods.period_end >= agencies.valid_from
            and periods.period_end <= coalesce(agencies.valid_to, 'infinity'::date)

),

final as (

    select
        -- ids
        agency_code,
        period,
        agency_version_key,

        -- period
        period_kind,
        calendar_period_kind,
        year,
        period_start,
        period_end,
        deadline_date,

        -- agency on the period's last day
        agency_name,
        agency_kind,
        reporting_frequency,
        current_province_code,
        legacy_province_code,

        -- obligation
        case
            when period_kind = 'year' then reporting_frequency in ('annual', 'quarterly')
            when period_kind = 'quarter' then reporting_frequency = 'quarterly'
            else false
        end as is_expected

    from matched
    where match_rank = 1

)

select * from final
