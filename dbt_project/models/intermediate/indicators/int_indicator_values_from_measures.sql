-- Indicators computed from sums of reported measures (measure_sum): shares of products,
-- digitised sources, misinformation and fake news handled, and the running count of books.
-- A percent is the summed numerator over the summed denominator, never an average of the
-- agencies' percents. A cumulative indicator sums every year up to the row's year; a year has
-- data when at least one agency reported one of the indicator's measures for it.
with

grid as (

    select * from {{ ref('int_indicator_grid') }}
    where computation = 'measure_sum'

),

indicator_measures as (

    select * from {{ ref('int_indicator_measures') }}

),

province_values as (

    select * from {{ ref('int_submission_values_by_province_year') }}

),

has_denominator as (

    select distinct indicator_code
    from indicator_measures
    where measure_role = 'denominator'

),

yearly_provinces as (

    select
        indicator_measures.indicator_code,
        province_values.series,
        province_values.province_code,
        province_values.year,
        sum(case when indicator_measures.measure_role = 'numerator' then province_values.measure_value end)
            as numerator_of_year,
        sum(case when indicator_measures.measure_role = 'denominator' then province_values.measure_value end)
            as denominator_of_year,
        sum(province_values.rows_used) as rows_used
    from province_values
    inner join indicator_measures
        on province_values.measure_code = indicator_measures.measure_code
    group by
        indicator_measures.indicator_code,
        province_values.series,
        province_values.province_code,
        province_values.year

),

yearly_national as (

    select
        indicator_code,
        'national' as series,
        '00' as province_code,
        year,
        sum(numerator_of_year) as numerator_of_year,
        sum(denominator_of_year) as denominator_of_year,
        sum(rows_used) as rows_used
    from yearly_provinces
    where series = 'current'
    group by indicator_code, year

),

yearly as (

    select * from yearly_provinces
    union all
    select * from yearly_national

),

accumulated as (

    select
        grid.indicator_code,
        grid.series,
        grid.province_code,
        grid.year,
        grid.unit,
        grid.is_cumulative,
        has_denominator.indicator_code is not null as has_denominator,
        coalesce(yearly.rows_used, 0) > 0 as has_data,
        coalesce(yearly.numerator_of_year, 0) as numerator_of_year,
        coalesce(yearly.denominator_of_year, 0) as denominator_of_year,
        sum(coalesce(yearly.numerator_of_year, 0)) over years_to_date as numerator_to_date,
        sum(coalesce(yearly.denominator_of_year, 0)) over years_to_date as denominator_to_date
    from grid
    left join yearly
        on
            grid.indicator_code = yearly.indicator_code
            and grid.series = yearly.series
            and grid.province_code = yearly.province_code
            and grid.year = yearly.year
    left join has_denominator
        on grid.indicator_code = has_denominator.indicator_code
    window years_to_date as (
        partition by grid.indicator_code, grid.series, grid.province_code
        order by grid.year
    )

),

fractions as (

    select
        indicator_code,
        series,
        province_code,
        year,
        unit,
        has_data,
        case
            when not has_data then null
            when is_cumulative then numerator_to_date
            else numerator_of_year
        end as numerator,
        case
            when not has_data or not has_denominator then null
            when is_cumulative then denominator_to_date
            else denominator_of_year
        end as denominator
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
        -- trim_scale: 20 rather than 20.000..., the same number
        trim_scale(case
            when unit = 'percent' then 100 * numerator / nullif(denominator, 0)
            else numerator
        end) as indicator_value,
        has_data
    from fractions

)

select * from final
