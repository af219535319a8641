-- Values compared with their targets. Which target applies:
--   national rows: the national target (Decision 1079);
--   current provinces: the national target when the indicator's target_scope_default is
--     `province`. The provincial plans in ref_indicator_targets were issued by legacy provinces
--     (their codes are legacy codes), so they do not carry over to the merged province: the
--     plan of Quảng Nam (49) is not the plan of today's Đà Nẵng (48);
--   legacy provinces: the province's own override when its plan has one, else as above.
--   National-only indicators (books, UPR) have no provincial target: provinces contribute.
-- Baseline: the value of the indicator's baseline year (2023), or of the first later year
-- with data when 2023 has none; never a partial year. Trajectory: the straight line from the
-- baseline to the target value in the target year (for a range, to its nearest bound).
-- Period: a legacy province's row of the merger year covers 1 January to 30 June (the province
-- ended then) and is a partial period; current provinces roll the legacy provinces' first half
-- up with their own reports for the year, and national rows are current provinces summed, so
-- theirs are whole years.
-- Status, the first that applies:
--   not applicable        a province row of a national-only indicator (books, UPR), value or not;
--   no register           the province has no agency register for the year (nobody is known to
--                         owe a report, so nothing can be judged or counted as missing);
--   no data               no value for the year (nothing reported, or a zero denominator);
--   partial year          a partial period: the value is shown but not judged against the
--                         annual trajectory (the annual reports of the agencies that ended on 30
--                         June are sent by their successors, under the current province);
--   insufficient coverage a national row whose provinces with data are fewer than the
--                         indicator's national rule requires (ref_national_rules);
--   not applicable        a value but no target at this scope;
--   achieved              the value meets the target (operator and value, or inside the range);
--   on track              before the target year, the value is at least the trajectory (at most,
--                         for an upper-bound target such as misinformation < 10 %);
--   at risk               within 10 % of the trajectory (value >= 0.9 x trajectory; <= 1.1 x for
--                         upper bounds); in the target year itself, within 10 % of the target;
--   off track             further away.
with

grid as (

    select * from {{ ref('int_indicator_grid') }}

),

definitions as (

    select * from {{ ref('int_indicator_definitions') }}

),

indicator_values as (

    select * from {{ ref('int_indicator_values_by_province_year') }}

),

completeness as (

    select * from {{ ref('int_indicator_completeness_by_province_year') }}

),

targets as (

    select * from {{ ref('ref_indicator_targets') }}

),

legacy_periods as (

    select * from {{ ref('int_province_periods') }}
    where province_period = 'legacy'

),

rows_with_targets as (

    select
        grid.indicator_code,
        grid.series,
        grid.province_code,
        grid.year,
        definitions.unit,
        definitions.direction,
        definitions.baseline_year as planned_baseline_year,
        definitions.target_year as planned_target_year,
        definitions.is_national_only,
        definitions.national_rule,
        definitions.min_coverage_percent,
        indicator_values.numerator,
        indicator_values.denominator,
        indicator_values.indicator_value,
        completeness.has_register,
        completeness.agencies_reported,
        completeness.agencies_expected,
        completeness.provinces_reporting,
        completeness.provinces_with_register,
        completeness.provinces_total,
        completeness.coverage_rate,
        greatest(make_date(grid.year, 1, 1), legacy_periods.valid_from) as period_start,
        least(make_date(grid.year, 12, 31), legacy_periods.valid_to) as period_end,
        case
            when grid.series = 'legacy' and province_targets.indicator_code is not null then 'province'
            when grid.series = 'national' or definitions.target_scope_default = 'province' then 'national'
        end as target_scope
    from grid
    inner join definitions
        on grid.indicator_code = definitions.indicator_code
    inner join indicator_values
        on
            grid.indicator_code = indicator_values.indicator_code
            and grid.series = indicator_values.series
            and grid.province_code = indicator_values.province_code
            and grid.year = indicator_values.year
    inner join completeness
        on
            grid.indicator_code = completeness.indicator_code
            and grid.series = completeness.series
            and grid.province_code = completeness.province_code
            and grid.year = completeness.year
    left join legacy_periods
        on
            grid.province_code = legacy_periods.province_code
            and grid.series = 'legacy'
    left join targets as province_targets
        on
            grid.indicator_code = province_targets.indicator_code
            and grid.series = 'legacy'
            and province_targets.scope = 'province'
            and grid.province_code = province_targets.province_code
            and definitions.target_year = province_targets.target_year

),

targeted as (

    select
        rows_with_targets.*,
        rows_with_targets.period_start > make_date(rows_with_targets.year, 1, 1)
        or rows_with_targets.period_end < make_date(rows_with_targets.year, 12, 31) as is_partial_period,
        targets.target_operator,
        targets.target_value,
        targets.target_value_high,
        targets.target_year,
        targets.source_document as target_source_document
    from rows_with_targets
    left join targets
        on
            rows_with_targets.indicator_code = targets.indicator_code
            and rows_with_targets.target_scope = targets.scope
            and rows_with_targets.planned_target_year = targets.target_year
            and (rows_with_targets.target_scope = 'national' or rows_with_targets.province_code = targets.province_code)

),

baselines as (

    select
        indicator_code,
        series,
        province_code,
        year as baseline_year,
        indicator_value as baseline_value,
        row_number() over (
            partition by indicator_code, series, province_code
            order by year
        ) as baseline_rank
    from targeted
    where indicator_value is not null and year >= planned_baseline_year and not is_partial_period

),

with_trajectory as (

    select
        targeted.*,
        baselines.baseline_year,
        baselines.baseline_value,
        -- for a range the line heads to the bound nearest the baseline (or stays, if inside)
        case
            when targeted.target_operator <> 'between' then targeted.target_value
            when baselines.baseline_value < targeted.target_value then targeted.target_value
            when baselines.baseline_value > targeted.target_value_high then targeted.target_value_high
            else baselines.baseline_value
        end as trajectory_end_value
    from targeted
    left join baselines
        on
            targeted.indicator_code = baselines.indicator_code
            and targeted.series = baselines.series
            and targeted.province_code = baselines.province_code
            and baselines.baseline_rank = 1

),

compared as (

    select
        *,
        -- trim_scale: 82 rather than 82.000..., the same number
        trim_scale(case
            when year < baseline_year or target_year is null then null
            when target_year <= baseline_year then trajectory_end_value
            else
                baseline_value
                + (trajectory_end_value - baseline_value) * (year - baseline_year) / (target_year - baseline_year)
        end) as trajectory_value,
        case target_operator
            when '>=' then indicator_value >= target_value
            when '>' then indicator_value > target_value
            when '<=' then indicator_value <= target_value
            when '<' then indicator_value < target_value
            when 'between' then indicator_value between target_value and target_value_high
        end as is_target_met,
        -- which way the value must move to reach the target
        case
            when target_operator in ('>=', '>') then 'up'
            when target_operator in ('<=', '<') then 'down'
            when indicator_value < target_value then 'up'
            else 'down'
        end as way_to_target
    from with_trajectory

),

final as (

    select
        indicator_code,
        series,
        province_code,
        year,
        numerator,
        denominator,
        indicator_value,
        unit,
        direction,
        target_scope,
        target_operator,
        target_value,
        target_value_high,
        target_year,
        target_source_document,
        baseline_year,
        baseline_value,
        trajectory_value,
        case
            when series <> 'national' and is_national_only then 'not applicable'
            when not has_register then 'no register'
            when indicator_value is null then 'no data'
            when is_partial_period then 'partial year'
            when series = 'national' and coalesce(coverage_rate, 0) < min_coverage_percent then 'insufficient coverage'
            when target_operator is null then 'not applicable'
            when is_target_met then 'achieved'
            when
                year < target_year
                and (
                    (way_to_target = 'up' and indicator_value >= trajectory_value)
                    or (way_to_target = 'down' and indicator_value <= trajectory_value)
                )
                then 'on track'
            when
                (way_to_target = 'up' and indicator_value >= 0.9 * trajectory_value)
                or (way_to_target = 'down' and indicator_value <= 1.1 * trajectory_value)
                then 'at risk'
            else 'off track'
        end as status,
        -- period
        period_start,
        period_end,
        is_partial_period,
        -- completeness
        has_register,
        agencies_reported,
        agencies_expected,
        trim_scale(100.0 * agencies_reported / nullif(agencies_expected, 0)) as completeness_rate,
        -- national coverage
        national_rule,
        provinces_reporting,
        provinces_with_register,
        provinces_total,
        coverage_rate,
        min_coverage_percent
    from compared

)

select * from final
