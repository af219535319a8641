with

agency_periods as (

    select * from {{ ref('int_agency_reporting_periods') }}

),

receipts as (

    select * from {{ ref('int_submission_receipts') }}

),

periods as (

    select * from {{ ref('int_reporting_periods') }}

),

-- the data's clock: the latest arrival in the landing ledger (int_reporting_periods)
data_clock as (

    select max(as_of_date) as as_of_date
    from periods

),

expected as (

    select * from agency_periods
    where is_expected

),

expected_reports as (

    select
        expected.agency_code,
        expected.period,
        expected.agency_version_key,
        expected.agency_name,
        expected.agency_kind,
        expected.current_province_code,
        expected.legacy_province_code,
        expected.period_kind,
        expected.year,
        expected.deadline_date,
        true as is_expected,
        receipts.received_on,
        receipts.submitted_on,
        receipts.versions_count,
        receipts.latest_file_id
    from expected
    left join receipts
        on
            expected.agency_code = receipts.agency_code
            and expected.period = receipts.period

),

-- reports nobody owed: an agency marked `none`, a quarter from an annual reporter, a month, a
-- period outside the agency's register interval
unexpected_reports as (

    select
        receipts.agency_code,
        receipts.period,
        agency_periods.agency_version_key,
        coalesce(agency_periods.agency_name, receipts.agency_name) as agency_name,
        agency_periods.agency_kind,
        coalesce(agency_periods.current_province_code, receipts.current_province_code) as current_province_code,
        coalesce(agency_periods.legacy_province_code, receipts.legacy_province_code) as legacy_province_code,
        receipts.period_kind,
        receipts.period_year as year,
        periods.deadline_date,
        false as is_expected,
        receipts.received_on,
        receipts.submitted_on,
        receipts.versions_count,
        receipts.latest_file_id
    from receipts
    left join expected
        on
            receipts.agency_code = expected.agency_code
            and receipts.period = expected.period
    left join agency_periods
        on
            receipts.agency_code = agency_periods.agency_code
            and receipts.period = agency_periods.period
    left join periods
        on receipts.period = periods.period
    where expected.agency_code is null

),

reports as (

    select * from expected_reports
    union all
    select * from unexpected_reports

),

clocked as (

    select
        reports.*,
        data_clock.as_of_date
    from reports
    cross join data_clock

),

final as (

    select
        -- ids
        agency_code,
        period,
        agency_version_key,

        -- agency
        agency_name,
        agency_kind,
        case when current_province_code is not null then 'current:' || current_province_code end as province_key,
        current_province_code as province_code,
        legacy_province_code,

        -- period
        period_kind,
        year,
        deadline_date,

        -- compliance
        is_expected,
        received_on is not null as is_received,
        received_on,
        submitted_on,
        case
            when received_on is null then false
            when deadline_date is null then null
            else received_on <= deadline_date
        end as is_on_time,
        case
            when received_on is not null and deadline_date is not null then greatest(received_on - deadline_date, 0)
        end as days_late,
        deadline_date < as_of_date as is_past_deadline,
        coalesce(versions_count, 0)::integer as submission_versions,
        latest_file_id

    from clocked

)

select * from final
