with

progress as (

    select * from {{ ref('int_indicator_progress') }}
    where series in ('current', 'national')

),

province_periods as (

    select * from {{ ref('int_province_periods') }}
    where province_period = 'current'

),

final as (

    select
        -- ids
        progress.indicator_code,
        case progress.series when 'national' then 'national' else 'province' end as scope,
        province_periods.province_key,
        progress.province_code,
        coalesce(province_periods.province_name, 'Toàn quốc') as province_name,
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

        -- national coverage (national rows)
        progress.national_rule,
        progress.provinces_reporting,
        progress.provinces_with_register,
        progress.provinces_total,
        progress.coverage_rate,
        progress.min_coverage_percent,

        -- period
        progress.period_start,
        progress.period_end,
        progress.is_partial_period

    from progress
    left join province_periods
        on
            progress.province_code = province_periods.province_code
            and progress.series = 'current'

)

select * from final
