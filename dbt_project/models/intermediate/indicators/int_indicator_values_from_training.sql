-- Training coverage (trained_share): distinct persons of the indicator's trainee category who
-- completed a course from the scheme's start up to the row's year, over the headcount of that
-- category that the agencies reported for the year itself. A person counts once, in the
-- province and year of their first completion (int_trainees_deduplicated). The national
-- numerator counts every person, including those no province could be found for.
with

grid as (

    select * from {{ ref('int_indicator_grid') }}
    where computation = 'trained_share'

),

definitions as (

    select * from {{ ref('int_indicator_definitions') }}

),

indicator_measures as (

    select * from {{ ref('int_indicator_measures') }}

),

province_values as (

    select * from {{ ref('int_submission_values_by_province_year') }}

),

trainees as (

    select * from {{ ref('int_trainees_deduplicated') }}

),

indicator_trainees as (

    select
        definitions.indicator_code,
        trainees.current_province_code,
        trainees.legacy_province_code,
        trainees.first_completed_year
    from trainees
    inner join definitions
        on trainees.category_code = definitions.trainee_category_code

),

yearly_persons as (

    select
        indicator_code,
        'current' as series,
        current_province_code as province_code,
        first_completed_year as year,
        count(*) as persons_of_year
    from indicator_trainees
    where current_province_code is not null
    group by indicator_code, current_province_code, first_completed_year

    union all

    select
        indicator_code,
        'legacy' as series,
        legacy_province_code as province_code,
        first_completed_year as year,
        count(*) as persons_of_year
    from indicator_trainees
    where legacy_province_code is not null
    group by indicator_code, legacy_province_code, first_completed_year

    union all

    select
        indicator_code,
        'national' as series,
        '00' as province_code,
        first_completed_year as year,
        count(*) as persons_of_year
    from indicator_trainees
    group by indicator_code, first_completed_year

),

headcounts_provinces as (

    select
        indicator_measures.indicator_code,
        province_values.series,
        province_values.province_code,
        province_values.year,
        sum(province_values.measure_value) as headcount,
        sum(province_values.rows_used) as rows_used
    from province_values
    inner join indicator_measures
        on
            province_values.measure_code = indicator_measures.measure_code
            and indicator_measures.measure_role = 'denominator'
    group by
        indicator_measures.indicator_code,
        province_values.series,
        province_values.province_code,
        province_values.year

),

headcounts as (

    select * from headcounts_provinces

    union all

    select
        indicator_code,
        'national' as series,
        '00' as province_code,
        year,
        sum(headcount) as headcount,
        sum(rows_used) as rows_used
    from headcounts_provinces
    where series = 'current'
    group by indicator_code, year

),

accumulated as (

    select
        grid.indicator_code,
        grid.series,
        grid.province_code,
        grid.year,
        grid.is_cumulative,
        coalesce(headcounts.rows_used, 0) > 0 as has_data,
        headcounts.headcount,
        coalesce(yearly_persons.persons_of_year, 0) as persons_of_year,
        sum(coalesce(yearly_persons.persons_of_year, 0)) over (
            partition by grid.indicator_code, grid.series, grid.province_code
            order by grid.year
        ) as persons_to_date
    from grid
    left join yearly_persons
        on
            grid.indicator_code = yearly_persons.indicator_code
            and grid.series = yearly_persons.series
            and grid.province_code = yearly_persons.province_code
            and grid.year = yearly_persons.year
    left join headcounts
        on
            grid.indicator_code = headcounts.indicator_code
            and grid.series = headcounts.series
            and grid.province_code = headcounts.province_code
            and grid.year = headcounts.year

),

fractions as (

    select
        indicator_code,
        series,
        province_code,
        year,
        has_data,
        case
            when not has_data then null
            when is_cumulative then persons_to_date
            else persons_of_year
        end::numeric as numerator,
        case when has_data then headcount end as denominator
    from accumulated

),

final as (

    select
        indicator_code,
        series,
        province_code,
        year,
        numerator,
        denominator,
        -- trim_scale: 10 rather than 10.000..., the same number
        trim_scale(100 * numerator / nullif(denominator, 0)) as indicator_value,
        has_data
    from fractions

)

select * from final
