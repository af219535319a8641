-- One row per person and trainee category: the person's first completed course since the
-- scheme began. A person trained twice counts once, in the province of their first completion
-- (their agency's province then, else the course's). Coverage counts these rows cumulatively.
-- A table, not a view: three marts and its tests read it, and at national scale (200,000
-- roster rows) each read of the view took minutes; the planner's nested loops over
-- misestimated rankings are what made it quadratic (every model's joins are hashed: dbt_project.yml).
{{
    config(
        materialized='table',
        post_hook="analyze {{ this }}",
    )
}}

with

courses as (

    select * from {{ ref('stg_training_rosters__courses') }}

),

attendances as (

    select * from {{ ref('stg_training_rosters__attendances') }}

),

files as (

    select * from {{ ref('stg_landing__files') }}

),

agencies as (

    select * from {{ ref('int_agencies_effective_dated') }}

),

province_periods as (

    select * from {{ ref('int_province_periods') }}

),

indicators as (

    select * from {{ ref('ref_indicators') }}

),

course_versions as (

    select
        courses.*,
        files.received_at,
        row_number() over (
            partition by courses.course_id
            order by files.received_at desc, courses.file_id desc
        ) as version_rank
    from courses
    inner join files
        on courses.file_id = files.file_id

),

completions as (

    select
        attendances.person_key,
        attendances.category_code,
        attendances.agency_code,
        attendances.file_id,
        attendances.row_number,
        course_versions.course_id,
        course_versions.province_code as course_province_code,
        coalesce(course_versions.end_date, course_versions.start_date) as completed_date
    from attendances
    inner join course_versions
        on attendances.file_id = course_versions.file_id
    where
        course_versions.version_rank = 1
        and attendances.is_completed

),

scheme_start as (

    select make_date(min(baseline_year), 1, 1) as first_day
    from indicators

),

completions_in_scheme as (

    select completions.*
    from completions
    cross join scheme_start
    where completions.completed_date >= scheme_start.first_day

),

with_agency as (

    select
        completions_in_scheme.*,
        agencies.province_key as agency_province_key,
        row_number() over (
            partition by completions_in_scheme.file_id, completions_in_scheme.row_number
            order by agencies.valid_from desc nulls last
        ) as agency_match_rank
    from completions_in_scheme
    left join agencies
        on
            completions_in_scheme.agency_code = agencies.agency_code
            and completions_in_scheme.completed_date >= agencies.valid_from
            and completions_in_scheme.completed_date <= coalesce(agencies.valid_to, 'infinity'::date)

),

located as (

    select
        *,
        coalesce(
            agency_province_key,
            {{ province_key_at('with_agency.course_province_code', 'with_agency.completed_date') }}
        ) as province_key,
        row_number() over (
            partition by person_key, category_code
            order by completed_date asc, course_id asc, file_id asc, row_number asc
        ) as completion_rank
    from with_agency
    where agency_match_rank = 1

),

courses_per_person as (

    select
        person_key,
        category_code,
        count(distinct course_id) as courses_completed
    from completions_in_scheme
    group by person_key, category_code

),

final as (

    select
        -- ids
        located.person_key,
        located.category_code,
        located.course_id as first_course_id,
        located.file_id as first_file_id,
        located.row_number as first_row_number,
        located.agency_code,

        -- province of the first completion
        located.province_key,
        province_periods.province_period,
        case when province_periods.province_period = 'legacy' then province_periods.province_code end
            as legacy_province_code,
        province_periods.current_province_code,

        -- dates
        located.completed_date as first_completed_date,
        extract(year from located.completed_date)::integer as first_completed_year,

        -- counts
        courses_per_person.courses_completed

    from located
    inner join courses_per_person
        on
            located.person_key = courses_per_person.person_key
            and located.category_code = courses_per_person.category_code
    left join province_periods
        on located.province_key = province_periods.province_key
    where located.completion_rank = 1

)

select * from final
