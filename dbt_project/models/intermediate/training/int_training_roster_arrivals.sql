-- When rosters of a trainee category first arrived for a province: the first year a course
-- (its latest roster file) listed a trainee of the category placed in the province, completed or
-- not, the way int_trainees_deduplicated places a completion (the trainee's agency's province on
-- the course's last day, else the course's province). Training coverage has no data for a
-- province and year before that: rosters that never arrived are not a count of zero.
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

course_versions as (

    select
        courses.*,
        coalesce(courses.end_date, courses.start_date) as last_day,
        row_number() over (
            partition by courses.course_id
            order by files.received_at desc, courses.file_id desc
        ) as version_rank
    from courses
    inner join files
        on courses.file_id = files.file_id

),

listed as (

    select distinct
        attendances.category_code,
        attendances.agency_code,
        course_versions.province_code as course_province_code,
        course_versions.last_day
    from attendances
    inner join course_versions
        on attendances.file_id = course_versions.file_id
    where course_versions.version_rank = 1

),

with_agency as (

    select
        listed.*,
        agencies.province_key as agency_province_key,
        row_number() over (
            partition by listed.category_code, listed.agency_code, listed.course_province_code, listed.last_day
            order by agencies.valid_from desc nulls last
        ) as agency_match_rank
    from listed
    left join agencies
        on
            listed.agency_code = agencies.agency_code
            and listed.last_day >= agencies.valid_from
            and listed.last_day <= coalesce(agencies.valid_to, 'infinity'::date)

),

located as (

    select
        with_agency.category_code,
        extract(year from with_agency.last_day)::integer as course_year,
        coalesce(
            with_agency.agency_province_key,
            {{ province_key_at('with_agency.course_province_code', 'with_agency.last_day') }}
        ) as province_key
    from with_agency
    where with_agency.agency_match_rank = 1

),

in_series as (

    select
        'current' as series,
        province_periods.current_province_code as province_code,
        located.category_code,
        located.course_year
    from located
    inner join province_periods
        on located.province_key = province_periods.province_key

    union all

    select
        'legacy' as series,
        province_periods.province_code,
        located.category_code,
        located.course_year
    from located
    inner join province_periods
        on located.province_key = province_periods.province_key
    where province_periods.province_period = 'legacy'

),

final as (

    select
        series,
        province_code,
        category_code,
        min(course_year) as first_roster_year
    from in_series
    group by series, province_code, category_code

)

select * from final
