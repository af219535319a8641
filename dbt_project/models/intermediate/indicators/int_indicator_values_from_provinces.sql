-- Shares of provinces (province_share, the photo exhibitions): a province has met it once it
-- has held at least one exhibition since the scheme began, so its value is 100 or 0; the
-- nation's is the share of current provinces that have. Legacy provinces count their own
-- exhibitions. A year has data when an exhibition count was reported for it.
with

grid as (

    select * from {{ ref('int_indicator_grid') }}
    where computation = 'province_share'

),

indicator_measures as (

    select * from {{ ref('int_indicator_measures') }}

),

province_values as (

    select * from {{ ref('int_submission_values_by_province_year') }}

),

yearly as (

    select
        indicator_measures.indicator_code,
        province_values.series,
        province_values.province_code,
        province_values.year,
        sum(province_values.measure_value) as held_in_year,
        sum(province_values.rows_used) as rows_used
    from province_values
    inner join indicator_measures
        on
            province_values.measure_code = indicator_measures.measure_code
            and indicator_measures.measure_role = 'numerator'
    group by
        indicator_measures.indicator_code,
        province_values.series,
        province_values.province_code,
        province_values.year

),

provinces as (

    select
        grid.indicator_code,
        grid.series,
        grid.province_code,
        grid.year,
        coalesce(yearly.rows_used, 0) > 0 as has_data,
        sum(coalesce(yearly.held_in_year, 0)) over (
            partition by grid.indicator_code, grid.series, grid.province_code
            order by grid.year
        ) as held_to_date
    from grid
    left join yearly
        on
            grid.indicator_code = yearly.indicator_code
            and grid.series = yearly.series
            and grid.province_code = yearly.province_code
            and grid.year = yearly.year
    where grid.series <> 'national'

),

province_fractions as (

    select
        indicator_code,
        series,
        province_code,
        year,
        has_data,
        case when held_to_date >= 1 then 1 else 0 end as numerator,
        1 as denominator
    from provinces

),

national_fractions as (

    select
        indicator_code,
        'national' as series,
        '00' as province_code,
        year,
        bool_or(has_data) as has_data,
        sum(numerator) as numerator,
        count(*) as denominator
    from province_fractions
    where series = 'current'
    group by indicator_code, year

),

fractions as (

    select * from province_fractions
    union all
    select * from national_fractions

),

final as (

    select
        indicator_code,
        series,
        province_code,
        year,
        case when has_data then numerator end::numeric as numerator,
        case when has_data then denominator end::numeric as denominator,
        -- trim_scale: 100 rather than 100.000..., the same number
        trim_scale(case when has_data then 100.0 * numerator / nullif(denominator, 0) end) as indicator_value,
        has_data
    from fractions

)

select * from final
