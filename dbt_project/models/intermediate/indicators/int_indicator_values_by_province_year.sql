-- Every indicator's numerator, denominator and value for every row of the grid, whichever way
-- it is computed. value is empty when the year has no data or the denominator is zero.
with

from_measures as (

    select * from {{ ref('int_indicator_values_from_measures') }}

),

from_training as (

    select * from {{ ref('int_indicator_values_from_training') }}

),

from_agencies as (

    select * from {{ ref('int_indicator_values_from_agencies') }}

),

from_provinces as (

    select * from {{ ref('int_indicator_values_from_provinces') }}

),

from_recommendations as (

    select * from {{ ref('int_indicator_values_from_recommendations') }}

),

unioned as (

    select * from from_measures
    union all
    select * from from_training
    union all
    select * from from_agencies
    union all
    select * from from_provinces
    union all
    select * from from_recommendations

),

final as (

    select
        indicator_code,
        series,
        province_code,
        year,
        numerator::numeric as numerator,
        denominator::numeric as denominator,
        indicator_value::numeric as indicator_value,
        has_data
    from unioned

)

select * from final
