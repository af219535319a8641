-- Which reported measures feed each indicator, and as what: `a+b` in the notation of
-- ref_indicators is a sum of measures. Derived denominators (agencies_in_scope,
-- provinces_in_scope) and trainee counts are not reported measures and are left out.
with

indicators as (

    select * from {{ ref('ref_indicators') }}

),

measures as (

    select * from {{ ref('ref_measures') }}

),

parts as (

    select
        indicators.indicator_code,
        'numerator' as measure_role,
        trim(part.measure_code) as measure_code
    from indicators
    cross join lateral unnest(string_to_array(indicators.numerator_measure, '+')) as part (measure_code)

    union all

    select
        indicators.indicator_code,
        'denominator' as measure_role,
        trim(part.measure_code) as measure_code
    from indicators
    cross join lateral unnest(string_to_array(indicators.denominator_measure, '+')) as part (measure_code)

),

final as (

    select
        parts.indicator_code,
        parts.measure_role,
        parts.measure_code
    from parts
    inner join measures
        on parts.measure_code = measures.measure_code

)

select * from final
