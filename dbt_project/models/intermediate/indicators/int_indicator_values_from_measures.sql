-- Indicators computed from sums of reported measures (measure_sum): shares of products,
-- digitised sources, misinformation and fake news handled, and the running count of books.
-- A percent is the summed numerator over the summed denominator, never an average of the
-- agencies' percents. A cumulative indicator sums every year up to the row's year. A province
-- has data for a year when lines of the indicator's numerator and, for a share, of its
-- denominator are used for that year: a denominator alone is not a reported zero.
-- National rows follow the indicator's national rule: `ratio_of_sums` sums the numerators and
-- denominators of the current provinces with data; `sum_of_provinces` is the running total of
-- everything every current province reported.
with

grid as (

    select * from {{ ref('int_indicator_grid') }}
    where computation = 'measure_sum'

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

has_denominator as (

    select distinct indicator_code
    from indicator_measures
    where measure_role = 'denominator'

),

yearly as (

    select
        indicator_measures.indicator_code,
        province_values.series,
        province_values.province_code,
        province_values.year,
        sum(case when indicator_measures.measure_role = 'numerator' then province_values.measure_value end)
            as numerator_of_year,
        sum(case when indicator_measures.measure_role = 'denominator' then province_values.measure_value end)
            as denominator_of_year,
        coalesce(sum(province_values.rows_used) filter (where indicator_measures.measure_role = 'numerator'), 0)
            as numerator_rows,
        coalesce(sum(province_values.rows_used) filter (where indicator_measures.measure_role = 'denominator'), 0)
            as denominator_rows
    from province_values
    inner join indicator_measures
        on province_values.measure_code = indicator_measures.measure_code
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
        grid.unit,
        grid.is_cumulative,
        has_denominator.indicator_code is not null as has_denominator,
        coalesce(yearly.numerator_rows, 0) > 0
        and (has_denominator.indicator_code is null or coalesce(yearly.denominator_rows, 0) > 0) as has_data,
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
    where grid.series <> 'national'
    window years_to_date as (
        partition by grid.indicator_code, grid.series, grid.province_code
        order by grid.year
    )

),

-- what a province's figures are for the year, whether or not it reported this year
provinces as (

    select
        indicator_code,
        series,
        province_code,
        year,
        unit,
        has_denominator,
        has_data,
        case when is_cumulative then numerator_to_date else numerator_of_year end as numerator_as_counted,
        case when is_cumulative then denominator_to_date else denominator_of_year end as denominator_as_counted
    from accumulated

),

national_counted as (

    select
        provinces.indicator_code,
        provinces.year,
        bool_or(provinces.has_data) as has_data,
        bool_or(provinces.has_denominator) as has_denominator,
        case definitions.national_rule
            when 'ratio_of_sums' then sum(provinces.numerator_as_counted) filter (where provinces.has_data)
            when 'sum_of_provinces' then sum(provinces.numerator_as_counted)
        end as numerator_as_counted,
        case definitions.national_rule
            when 'ratio_of_sums' then sum(provinces.denominator_as_counted) filter (where provinces.has_data)
            when 'sum_of_provinces' then sum(provinces.denominator_as_counted)
        end as denominator_as_counted
    from provinces
    inner join definitions
        on provinces.indicator_code = definitions.indicator_code
    where provinces.series = 'current'
    group by provinces.indicator_code, provinces.year, definitions.national_rule

),

national as (

    select
        grid.indicator_code,
        grid.series,
        grid.province_code,
        grid.year,
        grid.unit,
        coalesce(national_counted.has_denominator, false) as has_denominator,
        coalesce(national_counted.has_data, false) as has_data,
        national_counted.numerator_as_counted,
        national_counted.denominator_as_counted
    from grid
    left join national_counted
        on
            grid.indicator_code = national_counted.indicator_code
            and grid.year = national_counted.year
    where grid.series = 'national'

),

fractions as (

    select
        indicator_code,
        series,
        province_code,
        year,
        unit,
        has_data,
        case when has_data then numerator_as_counted end as numerator,
        case when has_data and has_denominator then denominator_as_counted end as denominator
    from provinces

    union all

    select
        indicator_code,
        series,
        province_code,
        year,
        unit,
        has_data,
        case when has_data then numerator_as_counted end as numerator,
        case when has_data and has_denominator then denominator_as_counted end as denominator
    from national

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
