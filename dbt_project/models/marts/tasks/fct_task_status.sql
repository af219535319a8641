-- Status of the plan's tasks per reporting agency and year. An agency's status for a task and
-- year is its latest task_status line of the year (int_submissions_latest: the latest period,
-- so a quarterly reporter's last quarter). The rows are the agencies expected to report that
-- year (register, int_agency_years_in_scope) whose kind leads the task (ref_plan_tasks
-- lead_agency_kinds), with `not reported` when they sent nothing, plus every other agency that
-- reported a status for a plan task (a partner unit, or an agency out of scope that year), with
-- is_lead_by_kind saying whether its kind leads the task. Years run from the scheme's start to
-- the year the warehouse has data for (int_reporting_periods), within each task's own years.
with

tasks as (

    select * from {{ ref('ref_plan_tasks') }}

),

agencies_in_scope as (

    select * from {{ ref('int_agency_years_in_scope') }}
    where series = 'current' and is_expected_to_report

),

agencies as (

    select * from {{ ref('int_agencies_effective_dated') }}

),

latest as (

    select * from {{ ref('int_submissions_latest') }}

),

reporting_years as (

    select distinct year from {{ ref('int_reporting_periods') }}

),

task_lead_kinds as (

    select
        tasks.task_code,
        trim(lead_kind.agency_kind) as agency_kind
    from tasks
    cross join lateral unnest(string_to_array(tasks.lead_agency_kinds, ';')) as lead_kind (agency_kind)

),

task_years as (

    select
        tasks.task_code,
        reporting_years.year
    from tasks
    inner join reporting_years
        on reporting_years.year between tasks.start_year and tasks.end_year

),

expected as (

    select
        task_years.task_code,
        agencies_in_scope.agency_code,
        task_years.year,
        agencies_in_scope.agency_version_key
    from task_years
    inner join agencies_in_scope
        on task_years.year = agencies_in_scope.year
    inner join task_lead_kinds
        on
            task_years.task_code = task_lead_kinds.task_code
            and agencies_in_scope.agency_kind = task_lead_kinds.agency_kind

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

-- an agency reporting outside the scope of the year is placed by its register row on the
-- period's last day
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
        coalesce(expected.task_code, matched_reporters.task_code) as task_code,
        coalesce(expected.agency_code, matched_reporters.agency_code) as agency_code,
        coalesce(expected.year, matched_reporters.year) as year,
        coalesce(expected.agency_version_key, matched_reporters.agency_version_key) as agency_version_key
    from expected
    full outer join matched_reporters
        on
            expected.task_code = matched_reporters.task_code
            and expected.agency_code = matched_reporters.agency_code
            and expected.year = matched_reporters.year

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
        task_lead_kinds.agency_kind is not null as is_lead_by_kind,

        -- status
        statuses.status_value::integer as status_value,
        case
            when statuses.status_value is null then 'not reported'
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
    left join task_lead_kinds
        on
            rows_wanted.task_code = task_lead_kinds.task_code
            and agencies.agency_kind = task_lead_kinds.agency_kind
    left join statuses
        on
            rows_wanted.task_code = statuses.task_code
            and rows_wanted.agency_code = statuses.agency_code
            and rows_wanted.year = statuses.year

)

select * from final
