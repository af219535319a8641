with

indicators as (

    select * from {{ ref('ref_indicators') }}

),

definitions as (

    select * from {{ ref('int_indicator_definitions') }}

),

national_rules as (

    select * from {{ ref('ref_national_rules') }}

),

final as (

    select
        -- ids
        indicators.indicator_code,

        -- names
        indicators.name_vi,
        indicators.short_name_vi,
        indicators.name_en,

        -- computation
        indicators.unit,
        indicators.direction,
        indicators.is_cumulative,
        definitions.computation,
        indicators.numerator_measure,
        indicators.denominator_measure,
        definitions.trainee_category_code,
        indicators.measure_rule,

        -- national target
        indicators.target_operator,
        indicators.target_value,
        indicators.target_value_high,
        case
            when indicators.target_operator = 'between'
                then trim_scale(indicators.target_value)::text || '-' || trim_scale(indicators.target_value_high)::text
            else indicators.target_operator || ' ' || trim_scale(indicators.target_value)::text
        end || case when indicators.unit = 'percent' then ' %' else '' end as target_label,
        indicators.target_scope_default,
        definitions.is_national_only,

        -- national value
        definitions.national_rule,
        national_rules.label_vi as national_rule_label_vi,
        national_rules.label_en as national_rule_label_en,
        national_rules.description as national_rule_description,
        national_rules.min_coverage_percent,

        -- years and source
        indicators.baseline_year,
        indicators.target_year,
        indicators.source_reference

    from indicators
    inner join definitions
        on indicators.indicator_code = definitions.indicator_code
    left join national_rules
        on definitions.national_rule = national_rules.national_rule

)

select * from final
