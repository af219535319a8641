-- The indicators of ref_indicators with the way each is computed, read from its measure
-- notation rather than from its code, so an indicator added to the catalogue with a known
-- notation needs no SQL.
with

indicators as (

    select * from {{ ref('ref_indicators') }}

),

final as (

    select
        indicator_code,
        unit,
        direction,
        is_cumulative,
        target_scope_default,
        baseline_year,
        target_year,
        numerator_measure,
        denominator_measure,
        case
            when numerator_measure like 'trainees_completed:%' then 'trained_share'
            when denominator_measure = 'agencies_in_scope' then 'agency_share'
            when denominator_measure = 'provinces_in_scope' then 'province_share'
            when unit = 'status' then 'recommendation_status'
            else 'measure_sum'
        end as computation,
        case
            when numerator_measure like 'trainees_completed:%' then split_part(numerator_measure, ':', 2)
        end as trainee_category_code
    from indicators

)

select * from final
