-- Training coverage (trained_share): distinct persons of the indicator's trainee category who
-- completed a course from the scheme's start up to the row's year, over the headcount of that
-- category that the agencies reported for the year itself. A person counts once, in the
-- province and year of their first completion (int_trainees_deduplicated). A province has data
-- for a year when the headcount was reported for it and rosters of the category have arrived
-- for the province by then (int_training_roster_arrivals): without rosters the count of trained
-- persons is unknown, not zero. National rows are a ratio of sums over the current provinces
-- with data (so a person no province could be found for is in no national numerator either).
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

roster_arrivals as (

    select * from {{ ref('int_training_roster_arrivals') }}

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

accumulated as (

    select
        grid.indicator_code,
        grid.series,
        grid.province_code,
        grid.year,
        grid.is_cumulative,
        coalesce(headcounts_provinces.rows_used, 0) > 0
        and roster_arrivals.first_roster_year <= grid.year as has_data,
        headcounts_provinces.headcount,
        coalesce(yearly_persons.persons_of_year, 0) as persons_of_year,
        sum(coalesce(yearly_persons.persons_of_year, 0)) over (
            partition by grid.indicator_code, grid.series, grid.province_code
            order by grid.year
        ) as persons_to_date
    from grid
    inner join definitions
        on grid.indicator_code = definitions.indicator_code
    left join yearly_persons
        on
            grid.indicator_code = yearly_persons.indicator_code
            and grid.series = yearly_persons.series
            and grid.province_code = yearly_persons.province_code
            and grid.year = yearly_persons.year
    left join headcounts_provinces
        on
            grid.indicator_code = headcounts_provinces.indicator_code
            and grid.series = headcounts_provinces.series
            and grid.province_code = headcounts_provinces.province_code
            and grid.year = headcounts_provinces.year
    left join roster_arrivals
        on
            grid.series = roster_arrivals.series
            and grid.province_code = roster_arrivals.province_code
            and definitions.trainee_category_code = roster_arrivals.category_code
    where grid.series <> 'national'

),

provinces as (

    select
        indicator_code,
        series,
        province_code,
        year,
        coalesce(has_data, false) as has_data,
        case
            when not coalesce(has_data, false) then null
            when is_cumulative then persons_to_date
            else persons_of_year
        end::numeric as numerator,
        case when has_data then headcount end as denominator
    from accumulated

),

-- ratio of sums over the current provinces with data (ref_national_rules: ratio_of_sums)
national as (

    select
        grid.indicator_code,
        grid.series,
        grid.province_code,
        grid.year,
        coalesce(bool_or(provinces.has_data), false) as has_data,
        sum(provinces.numerator) filter (where provinces.has_data) as numerator,
        sum(provinces.denominator) filter (where provinces.has_data) as denominator
    from grid
    left join provinces
        on
            grid.indicator_code = provinces.indicator_code
            and grid.year = provinces.year
            and provinces.series = 'current'
    where grid.series = 'national'
    group by grid.indicator_code, grid.series, grid.province_code, grid.year

),

fractions as (

    select * from provinces
    union all
    select * from national

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
