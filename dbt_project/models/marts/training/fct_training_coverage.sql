-- Training coverage per trainee category, current province and year. A person counts once per
-- category, in the year and province of their first completed course since the scheme began
-- (int_trainees_deduplicated): trainees_new_in_year are those first completions, and
-- trainees_cumulative their running total, the numerator of coverage. The denominator is the
-- headcount of the category that the province's agencies reported for the year (the latest
-- figure of each agency). Aggregates only: no person-level column leaves this model.
with

trainees as (

    select * from {{ ref('int_trainees_deduplicated') }}

),

categories as (

    select * from {{ ref('ref_trainee_categories') }}

),

indicators as (

    select * from {{ ref('ref_indicators') }}

),

province_values as (

    select * from {{ ref('int_submission_values_by_province_year') }}
    where series = 'current'

),

provinces as (

    select * from {{ ref('int_province_periods') }}
    where province_period = 'current'

),

areas as (

    select
        'province' as scope,
        province_key,
        province_code,
        province_name
    from provinces

    union all

    select
        'national' as scope,
        null as province_key,
        '00' as province_code,
        'Toàn quốc' as province_name

),

new_trainees_provinces as (

    select
        category_code,
        current_province_code as province_code,
        first_completed_year as year,
        count(*) as trainees_new_in_year
    from trainees
    where current_province_code is not null
    group by category_code, current_province_code, first_completed_year

),

-- the nation counts every person, including those no province could be found for
new_trainees_national as (

    select
        category_code,
        '00' as province_code,
        first_completed_year as year,
        count(*) as trainees_new_in_year
    from trainees
    group by category_code, first_completed_year

),

new_trainees as (

    select * from new_trainees_provinces
    union all
    select * from new_trainees_national

),

headcounts_provinces as (

    select
        categories.category_code,
        province_values.province_code,
        province_values.year,
        sum(province_values.measure_value) as headcount,
        sum(province_values.agencies_reporting) as headcount_agencies
    from province_values
    inner join categories
        on province_values.measure_code = categories.headcount_measure
    group by categories.category_code, province_values.province_code, province_values.year

),

headcounts as (

    select * from headcounts_provinces

    union all

    select
        category_code,
        '00' as province_code,
        year,
        sum(headcount) as headcount,
        sum(headcount_agencies) as headcount_agencies
    from headcounts_provinces
    group by category_code, year

),

scheme_start as (

    select min(baseline_year) as first_year
    from indicators

),

reported_years as (

    select year from new_trainees
    union all
    select year from headcounts

),

-- from the scheme's first year to the last year anything was reported for
years as (

    select
        generate_series(
            scheme_start.first_year,
            greatest(scheme_start.first_year, max(reported_years.year))
        )::integer as year
    from scheme_start
    left join reported_years
        on true
    group by scheme_start.first_year

),

grid as (

    select
        categories.category_code,
        categories.label_en as category_label_en,
        categories.indicator_code,
        areas.scope,
        areas.province_key,
        areas.province_code,
        areas.province_name,
        years.year
    from categories
    cross join areas
    cross join years

),

accumulated as (

    select
        grid.*,
        coalesce(new_trainees.trainees_new_in_year, 0) as trainees_new_in_year,
        -- persons first trained in the scheme's years before this one count too, never again
        sum(coalesce(new_trainees.trainees_new_in_year, 0)) over (
            partition by grid.category_code, grid.province_code
            order by grid.year
        ) as trainees_cumulative,
        headcounts.headcount,
        coalesce(headcounts.headcount_agencies, 0) as headcount_agencies
    from grid
    left join new_trainees
        on
            grid.category_code = new_trainees.category_code
            and grid.province_code = new_trainees.province_code
            and grid.year = new_trainees.year
    left join headcounts
        on
            grid.category_code = headcounts.category_code
            and grid.province_code = headcounts.province_code
            and grid.year = headcounts.year

),

final as (

    select
        -- ids
        accumulated.category_code,
        accumulated.category_label_en,
        accumulated.indicator_code,
        accumulated.scope,
        accumulated.province_key,
        accumulated.province_code,
        accumulated.province_name,
        accumulated.year,

        -- trainees
        accumulated.trainees_new_in_year::integer as trainees_new_in_year,
        accumulated.trainees_cumulative::integer as trainees_cumulative,

        -- headcount
        accumulated.headcount,
        accumulated.headcount_agencies::integer as headcount_agencies,

        -- coverage, percent
        trim_scale(100.0 * accumulated.trainees_cumulative / nullif(accumulated.headcount, 0)) as coverage_rate,

        -- national target of the category's indicator (Decision 1079)
        indicators.target_operator,
        indicators.target_value,
        indicators.target_value_high,
        indicators.target_year

    from accumulated
    left join indicators
        on accumulated.indicator_code = indicators.indicator_code

)

select * from final
