-- Status of the plan's tasks per agency and year. Rows are the agencies that hold a task's
-- duty that year (int_task_duties: the units the annex names, resolved to the register and
-- handed down to successors), leads and partners, plus any other agency that reported a status
-- for a plan task (duty_role `none`, placed by its register row on the period's last day). Only
-- a lead expected to report owes a status: `not reported` when it sent none; a partner, or an
-- agency the register marks `none`, is `not owed` when it sent none. An agency's status for a
-- task and year is its latest task_status line of the year (int_submissions_latest: the latest
-- period, so a quarterly reporter's last quarter). Years run from the scheme's start to the year
-- the warehouse has data for (int_reporting_periods), within each task's own years.
with

tasks as (

    select * from {{ ref('ref_plan_tasks') }}

),

duties as (

    select * from {{ ref('int_task_duties') }}

),

agencies as (

    select * from {{ ref('int_agencies_effective_dated') }}

),

latest as (

    select * from {{ ref('int_submissions_latest') }}

),

statuses as (

    select
        latest.task_code,
        latest.agency_code,
        latest.period_year as year,
        latest.period,
        latest.period_end,
        latest.measure_value as status_value,
        latest.agency_name,
        latest.current_province_code,
        latest.legacy_province_code,
        latest.file_id,
        latest.received_at
    from latest
    inner join tasks
        on latest.task_code = tasks.task_code
    where latest.measure_code = 'task_status' and latest.is_used_for_year

),

-- an agency reporting a task it holds no duty in is placed by its register row on the period's
-- last day
reported_agencies as (

    select
        statuses.task_code,
        statuses.agency_code,
        statuses.year,
        agencies.agency_version_key,
        row_number() over (
            partition by statuses.task_code, statuses.agency_code, statuses.year
            order by agencies.valid_from desc nulls last
        ) as match_rank
    from statuses
    left join agencies
        on
            statuses.agency_code = agencies.agency_code
            and statuses.period_end >= agencies.valid_from
            and statuses.period_end <= coalesce(agencies.valid_to, 'infinity'::date)

),

matched_reporters as (

    select * from reported_agencies
    where match_rank = 1

),

rows_wanted as (

    select
        coalesce(duties.task_code, matched_reporters.task_code) as task_code,
        coalesce(duties.agency_code, matched_reporters.agency_code) as agency_code,
        coalesce(duties.year, matched_reporters.year) as year,
        coalesce(duties.agency_version_key, matched_reporters.agency_version_key) as agency_version_key,
        coalesce(duties.duty_role, 'none') as duty_role,
        duties.duty_units,
        duties.inherited_from_agency_codes,
        coalesce(duties.duty_role = 'lead' and duties.is_expected_to_report, false) as is_status_owed
    from duties
    full outer join matched_reporters
        on
            duties.task_code = matched_reporters.task_code
            and duties.agency_code = matched_reporters.agency_code
            and duties.year = matched_reporters.year

),

final as (

    select
        -- ids
        rows_wanted.task_code,
        rows_wanted.agency_code,
        rows_wanted.year,
        rows_wanted.agency_version_key,

        -- task
        tasks.group_code as task_group_code,
        tasks.title_vi as task_title_vi,
        tasks.title_en as task_title_en,
        tasks.reporting_frequency as task_reporting_frequency,

        -- agency
        coalesce(agencies.agency_name, statuses.agency_name) as agency_name,
        agencies.agency_kind,
        'current:' || coalesce(agencies.current_province_code, statuses.current_province_code) as province_key,
        coalesce(agencies.current_province_code, statuses.current_province_code) as province_code,
        case
            when agencies.agency_version_key is not null then agencies.legacy_province_code
            else statuses.legacy_province_code
        end as legacy_province_code,

        -- duty
        rows_wanted.duty_role,
        rows_wanted.duty_units,
        rows_wanted.inherited_from_agency_codes,
        rows_wanted.is_status_owed,

        -- status
        statuses.status_value::integer as status_value,
        case
            when statuses.status_value is null and rows_wanted.is_status_owed then 'not reported'
            when statuses.status_value is null then 'not owed'
            when statuses.status_value = 0 then 'not started'
            when statuses.status_value = 1 then 'in progress'
            when statuses.status_value = 2 then 'completed'
        end as status_label,
        statuses.period as reported_period,
        statuses.file_id as source_file_id,
        statuses.received_at as source_received_at

    from rows_wanted
    inner join tasks
        on rows_wanted.task_code = tasks.task_code
    left join agencies
        on rows_wanted.agency_version_key = agencies.agency_version_key
    left join statuses
        on
            rows_wanted.task_code = statuses.task_code
            and rows_wanted.agency_code = statuses.agency_code
            and rows_wanted.year = statuses.year

)

select * from final
