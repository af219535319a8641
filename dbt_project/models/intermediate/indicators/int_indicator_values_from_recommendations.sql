-- Recommendation statuses (recommendation_status, the UPR recommendations), national only.
-- Each recommendation keeps its latest reported status (task_status, 0 to 2) up to the row's
-- year; when several agencies report it for the same year the highest counts. The value is
-- the lowest status of the recommendations, a recommendation never reported counting as the
-- scale's minimum, so the value reaches the scale's maximum (completed) only when all have.
-- The numerator counts completed recommendations, the denominator all of them. A year has
-- data when a status was reported for it. Province rows carry no value (a national indicator);
-- their has_data says whether an agency of the province reported a recommendation's status for
-- the year, which is what the national row's coverage counts.
with

grid as (

    select * from {{ ref('int_indicator_grid') }}
    where computation = 'recommendation_status'

),

indicator_measures as (

    select * from {{ ref('int_indicator_measures') }}

),

measures as (

    select * from {{ ref('ref_measures') }}

),

latest as (

    select * from {{ ref('int_submissions_latest') }}

),

recommendations as (

    select recommendation.task_code
    from unnest(array[{{ upr_recommendation_task_codes() }}]) as recommendation (task_code)

),

scales as (

    select
        indicator_measures.indicator_code,
        indicator_measures.measure_code,
        measures.min_value as not_started_value,
        measures.max_value as completed_value
    from indicator_measures
    inner join measures
        on indicator_measures.measure_code = measures.measure_code
    where indicator_measures.measure_role = 'numerator'

),

yearly_statuses as (

    select
        scales.indicator_code,
        latest.task_code,
        latest.period_year as year,
        max(latest.measure_value) as status_value
    from latest
    inner join scales
        on latest.measure_code = scales.measure_code
    inner join recommendations
        on latest.task_code = recommendations.task_code
    where latest.is_used_for_year
    group by scales.indicator_code, latest.task_code, latest.period_year

),

recommendation_years as (

    select
        grid.indicator_code,
        grid.year,
        recommendations.task_code,
        yearly_statuses.year as status_year,
        yearly_statuses.status_value,
        row_number() over (
            partition by grid.indicator_code, grid.year, recommendations.task_code
            order by yearly_statuses.year desc nulls last
        ) as recency_rank
    from grid
    cross join recommendations
    left join yearly_statuses
        on
            grid.indicator_code = yearly_statuses.indicator_code
            and recommendations.task_code = yearly_statuses.task_code
            and grid.year >= yearly_statuses.year
    where grid.series = 'national'

),

national as (

    select
        recommendation_years.indicator_code,
        recommendation_years.year,
        bool_or(recommendation_years.status_year = recommendation_years.year) as has_data,
        min(coalesce(recommendation_years.status_value, scales.not_started_value)) as lowest_status,
        count(*) filter (where recommendation_years.status_value >= scales.completed_value) as completed,
        count(*) as recommendations
    from recommendation_years
    inner join scales
        on recommendation_years.indicator_code = scales.indicator_code
    where recommendation_years.recency_rank = 1
    group by recommendation_years.indicator_code, recommendation_years.year

),

-- the provinces whose agencies reported a recommendation's status for the year
recommendation_lines as (

    select
        scales.indicator_code,
        latest.current_province_code,
        latest.legacy_province_code,
        latest.period_year as year
    from latest
    inner join scales
        on latest.measure_code = scales.measure_code
    inner join recommendations
        on latest.task_code = recommendations.task_code
    where latest.is_used_for_year

),

province_reports as (

    select distinct
        indicator_code,
        'current' as series,
        current_province_code as province_code,
        year
    from recommendation_lines
    where current_province_code is not null

    union

    select distinct
        indicator_code,
        'legacy' as series,
        legacy_province_code as province_code,
        year
    from recommendation_lines
    where legacy_province_code is not null

),

final as (

    select
        grid.indicator_code,
        grid.series,
        grid.province_code,
        grid.year,
        case when national.has_data then national.completed end::numeric as numerator,
        case when national.has_data then national.recommendations end::numeric as denominator,
        trim_scale(case when national.has_data then national.lowest_status end) as indicator_value,
        coalesce(national.has_data, province_reports.year is not null) as has_data
    from grid
    left join national
        on
            grid.indicator_code = national.indicator_code
            and grid.year = national.year
            and grid.series = 'national'
    left join province_reports
        on
            grid.indicator_code = province_reports.indicator_code
            and grid.series = province_reports.series
            and grid.province_code = province_reports.province_code
            and grid.year = province_reports.year

)

select * from final
