-- Drill-through: the rows behind every indicator value. For each row of fct_indicator_progress
-- (series current and national) and fct_indicator_progress_legacy (series legacy) that has a
-- value, one row per contributing source row:
--   submission  a report line (latest version, used for the year) of one of the indicator's
--               measures; cumulative indicators list every year up to the row's year;
--   course      a course whose trainees completed it for the first time, with how many
--               persons it adds to the numerator (never who);
--   register    an agency of the register that is in the denominator (spokesperson mechanism);
-- and for the UPR recommendations, the status lines of the year each status comes from.
with

progress as (

    select * from {{ ref('int_indicator_progress') }}
    where indicator_value is not null

),

definitions as (

    select * from {{ ref('int_indicator_definitions') }}

),

indicator_measures as (

    select * from {{ ref('int_indicator_measures') }}

),

latest as (

    select * from {{ ref('int_submissions_latest') }}
    where is_used_for_year

),

trainees as (

    select * from {{ ref('int_trainees_deduplicated') }}

),

files as (

    select * from {{ ref('stg_landing__files') }}

),

agencies_in_scope as (

    select * from {{ ref('int_agency_years_in_scope') }}
    where is_state_administrative and is_expected_to_report

),

agencies as (

    select * from {{ ref('int_agencies_effective_dated') }}

),

progress_rows as (

    select
        progress.indicator_code,
        progress.series,
        progress.province_code,
        progress.year,
        definitions.computation,
        definitions.is_cumulative,
        definitions.trainee_category_code
    from progress
    inner join definitions
        on progress.indicator_code = definitions.indicator_code

),

located_lines as (

    select
        'current' as series,
        current_province_code as province_code,
        file_id,
        row_number,
        agency_code,
        measure_code,
        task_code,
        period,
        period_year,
        measure_value,
        original_name,
        received_at
    from latest
    where current_province_code is not null

    union all

    select
        'legacy' as series,
        legacy_province_code as province_code,
        file_id,
        row_number,
        agency_code,
        measure_code,
        task_code,
        period,
        period_year,
        measure_value,
        original_name,
        received_at
    from latest
    where legacy_province_code is not null

    union all

    select
        'national' as series,
        '00' as province_code,
        file_id,
        row_number,
        agency_code,
        measure_code,
        task_code,
        period,
        period_year,
        measure_value,
        original_name,
        received_at
    from latest
    where current_province_code is not null

),

measure_sources as (

    select
        progress_rows.indicator_code,
        progress_rows.series,
        progress_rows.province_code,
        progress_rows.year,
        'submission' as source_kind,
        indicator_measures.measure_role,
        located_lines.file_id,
        located_lines.original_name,
        located_lines.received_at,
        located_lines.row_number,
        located_lines.agency_code,
        located_lines.measure_code,
        located_lines.task_code,
        located_lines.period,
        located_lines.measure_value as contributed_value,
        null::text as course_id,
        null::integer as persons_counted
    from progress_rows
    inner join indicator_measures
        on progress_rows.indicator_code = indicator_measures.indicator_code
    inner join located_lines
        on
            indicator_measures.measure_code = located_lines.measure_code
            and progress_rows.series = located_lines.series
            and progress_rows.province_code = located_lines.province_code
    where
        progress_rows.computation in ('measure_sum', 'province_share', 'trained_share')
        and (
            located_lines.period_year = progress_rows.year
            or (
                located_lines.period_year < progress_rows.year
                and progress_rows.is_cumulative
                and progress_rows.computation <> 'trained_share'
            )
        )

),

located_trainees as (

    select
        'current' as series,
        current_province_code as province_code,
        category_code,
        first_course_id,
        first_file_id,
        first_completed_year
    from trainees
    where current_province_code is not null

    union all

    select
        'legacy' as series,
        legacy_province_code as province_code,
        category_code,
        first_course_id,
        first_file_id,
        first_completed_year
    from trainees
    where legacy_province_code is not null

    union all

    select
        'national' as series,
        '00' as province_code,
        category_code,
        first_course_id,
        first_file_id,
        first_completed_year
    from trainees

),

course_sources as (

    select
        progress_rows.indicator_code,
        progress_rows.series,
        progress_rows.province_code,
        progress_rows.year,
        'course' as source_kind,
        'numerator' as measure_role,
        located_trainees.first_file_id as file_id,
        files.original_name,
        files.received_at,
        null::integer as row_number,
        null::text as agency_code,
        null::text as measure_code,
        null::text as task_code,
        null::text as period,
        count(*)::numeric as contributed_value,
        located_trainees.first_course_id as course_id,
        count(*)::integer as persons_counted
    from progress_rows
    inner join located_trainees
        on
            progress_rows.trainee_category_code = located_trainees.category_code
            and progress_rows.series = located_trainees.series
            and progress_rows.province_code = located_trainees.province_code
            and (
                progress_rows.year = located_trainees.first_completed_year
                or (progress_rows.year > located_trainees.first_completed_year and progress_rows.is_cumulative)
            )
    inner join files
        on located_trainees.first_file_id = files.file_id
    where progress_rows.computation = 'trained_share'
    group by
        progress_rows.indicator_code,
        progress_rows.series,
        progress_rows.province_code,
        progress_rows.year,
        located_trainees.first_file_id,
        located_trainees.first_course_id,
        files.original_name,
        files.received_at

),

located_scope as (

    select
        series,
        province_code,
        year,
        agency_code,
        agency_version_key
    from agencies_in_scope

    union all

    select
        'national' as series,
        '00' as province_code,
        year,
        agency_code,
        agency_version_key
    from agencies_in_scope
    where series = 'current'

),

register_sources as (

    select
        progress_rows.indicator_code,
        progress_rows.series,
        progress_rows.province_code,
        progress_rows.year,
        'register' as source_kind,
        'denominator' as measure_role,
        agencies.file_id,
        agencies.original_name,
        agencies.received_at,
        agencies.row_number,
        agencies.agency_code,
        null::text as measure_code,
        null::text as task_code,
        null::text as period,
        1::numeric as contributed_value,
        null::text as course_id,
        null::integer as persons_counted
    from progress_rows
    inner join located_scope
        on
            progress_rows.series = located_scope.series
            and progress_rows.province_code = located_scope.province_code
            and progress_rows.year = located_scope.year
    inner join agencies
        on located_scope.agency_version_key = agencies.agency_version_key
    where progress_rows.computation = 'agency_share'

),

flag_sources as (

    select
        progress_rows.indicator_code,
        progress_rows.series,
        progress_rows.province_code,
        progress_rows.year,
        'submission' as source_kind,
        indicator_measures.measure_role,
        latest.file_id,
        latest.original_name,
        latest.received_at,
        latest.row_number,
        latest.agency_code,
        latest.measure_code,
        latest.task_code,
        latest.period,
        latest.measure_value as contributed_value,
        null::text as course_id,
        null::integer as persons_counted
    from progress_rows
    inner join located_scope
        on
            progress_rows.series = located_scope.series
            and progress_rows.province_code = located_scope.province_code
            and progress_rows.year = located_scope.year
    inner join indicator_measures
        on progress_rows.indicator_code = indicator_measures.indicator_code
    inner join latest
        on
            located_scope.agency_code = latest.agency_code
            and indicator_measures.measure_code = latest.measure_code
            and progress_rows.year = latest.period_year
    where progress_rows.computation = 'agency_share'

),

recommendation_lines as (

    select
        progress_rows.indicator_code,
        progress_rows.series,
        progress_rows.province_code,
        progress_rows.year,
        indicator_measures.measure_role,
        latest.file_id,
        latest.original_name,
        latest.received_at,
        latest.row_number,
        latest.agency_code,
        latest.measure_code,
        latest.task_code,
        latest.period,
        latest.period_year,
        latest.measure_value,
        max(latest.period_year) over (
            partition by progress_rows.indicator_code, progress_rows.year, latest.task_code
        ) as status_year
    from progress_rows
    inner join indicator_measures
        on progress_rows.indicator_code = indicator_measures.indicator_code
    inner join latest
        on
            indicator_measures.measure_code = latest.measure_code
            and progress_rows.year >= latest.period_year
    where
        progress_rows.computation = 'recommendation_status'
        and latest.task_code in ({{ upr_recommendation_task_codes() }})

),

recommendation_sources as (

    select
        indicator_code,
        series,
        province_code,
        year,
        'submission' as source_kind,
        measure_role,
        file_id,
        original_name,
        received_at,
        row_number,
        agency_code,
        measure_code,
        task_code,
        period,
        measure_value as contributed_value,
        null::text as course_id,
        null::integer as persons_counted
    from recommendation_lines
    where period_year = status_year

),

unioned as (

    select * from measure_sources
    union all
    select * from course_sources
    union all
    select * from register_sources
    union all
    select * from flag_sources
    union all
    select * from recommendation_sources

),

final as (

    select
        -- the progress row explained
        indicator_code,
        series,
        province_code,
        year,

        -- the source row
        source_kind,
        measure_role,
        file_id,
        original_name,
        received_at,
        row_number,
        agency_code,
        measure_code,
        task_code,
        period,
        course_id,

        -- its contribution
        contributed_value,
        persons_counted

    from unioned

)

select * from final
