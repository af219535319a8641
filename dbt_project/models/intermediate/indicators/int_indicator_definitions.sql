-- The indicators of ref_indicators with the way each is computed, read from its measure
-- notation rather than from its code, so an indicator added to the catalogue with a known
-- notation needs no SQL; and how its national value is made (ref_national_rules).
with

indicators as (

    select * from {{ ref('ref_indicators') }}

),

national_rules as (

    select * from {{ ref('ref_national_rules') }}

),

final as (

    select
        indicators.indicator_code,
        indicators.unit,
        indicators.direction,
        indicators.is_cumulative,
        indicators.target_scope_default,
        -- a national target only: provinces contribute, they are not held to it
        indicators.target_scope_default = 'national' as is_national_only,
        indicators.baseline_year,
        indicators.target_year,
        indicators.numerator_measure,
        indicators.denominator_measure,
        case
            when indicators.numerator_measure like 'trainees_completed:%' then 'trained_share'
            when indicators.denominator_measure = 'agencies_in_scope' then 'agency_share'
            when indicators.denominator_measure = 'provinces_in_scope' then 'province_share'
            when indicators.unit = 'status' then 'recommendation_status'
            else 'measure_sum'
        end as computation,
        case
            when indicators.numerator_measure like 'trainees_completed:%'
                then split_part(indicators.numerator_measure, ':', 2)
        end as trainee_category_code,
        indicators.national_rule,
        national_rules.min_coverage_percent
    from indicators
    left join national_rules
        on indicators.national_rule = national_rules.national_rule

)

select * from final
