-- One row per agency and period that any submission file was received for: when the first
-- version arrived (timeliness is judged on it; a later correction does not make a report late),
-- how many versions came, and which file is the latest (the one the marts use). Arrival is the
-- landing ledger's received_at, the warehouse's own clock, rather than the date the agency typed
-- as Ngày báo cáo, which is optional and written by the sender.
with

versions as (

    select * from {{ ref('int_submissions_versioned') }}

),

files as (

    select
        agency_code,
        period,
        file_id,
        min(period_kind) as period_kind,
        min(period_start) as period_start,
        min(period_end) as period_end,
        min(period_year) as period_year,
        min(received_at) as received_at,
        min(submitted_date) as submitted_date,
        min(original_name) as original_name,
        max(agency_name) as agency_name,
        max(current_province_code) as current_province_code,
        max(legacy_province_code) as legacy_province_code
    from versions
    group by agency_code, period, file_id

),

ranked as (

    select
        *,
        row_number() over (
            partition by agency_code, period
            order by received_at asc, file_id asc
        ) as arrival_rank,
        row_number() over (
            partition by agency_code, period
            order by received_at desc, file_id desc
        ) as recency_rank,
        count(*) over (partition by agency_code, period) as versions_count
    from files

),

first_versions as (

    select * from ranked
    where arrival_rank = 1

),

latest_versions as (

    select * from ranked
    where recency_rank = 1

),

final as (

    select
        -- ids
        first_versions.agency_code,
        first_versions.period,

        -- period
        first_versions.period_kind,
        first_versions.period_start,
        first_versions.period_end,
        first_versions.period_year,

        -- first arrival
        first_versions.file_id as first_file_id,
        first_versions.received_at as first_received_at,
        (
            first_versions.received_at at time zone '{{ var("reporting_timezone", "Asia/Ho_Chi_Minh") }}'
        )::date as received_on,
        first_versions.submitted_date as submitted_on,

        -- latest version
        latest_versions.file_id as latest_file_id,
        latest_versions.received_at as latest_received_at,
        latest_versions.original_name as latest_original_name,
        latest_versions.agency_name,
        latest_versions.current_province_code,
        latest_versions.legacy_province_code,
        first_versions.versions_count

    from first_versions
    inner join latest_versions
        on
            first_versions.agency_code = latest_versions.agency_code
            and first_versions.period = latest_versions.period

)

select * from final
