with

progress as (

    select * from {{ ref('int_indicator_progress') }}
    where series = 'legacy'

),

province_periods as (

    select * from {{ ref('int_province_periods') }}
    where province_period = 'legacy'

),

final as (

    select
        -- ids
        progress.indicator_code,
        province_periods.province_key,
        progress.province_code,
        province_periods.province_name,
        province_periods.current_province_code,
        progress.year,

        -- measures
        progress.numerator,
        progress.denominator,
        progress.indicator_value as value,
        progress.unit,

        -- target
        progress.target_scope,
        progress.target_operator,
        progress.target_value,
        progress.target_value_high,
        progress.target_year,
        progress.target_source_document,

        -- progress
        progress.baseline_year,
        progress.baseline_value,
        progress.trajectory_value,
        progress.status,

        -- completeness (a province without a register has none)
        progress.has_register,
        progress.agencies_reported,
        progress.agencies_expected,
        progress.completeness_rate,

        -- period (the merger year ends on 30 June)
        progress.period_start,
        progress.period_end,
        progress.is_partial_period

    from progress
    inner join province_periods
        on progress.province_code = province_periods.province_code

)

select * from final
