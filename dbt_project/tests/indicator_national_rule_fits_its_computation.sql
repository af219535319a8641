-- An indicator's national rule (ref_indicators.national_rule) must be one its computation
-- applies (int_indicator_values_from_*): a rule the SQL does not know would leave the national
-- rows empty without an error.
select
    indicator_code,
    computation,
    national_rule
from {{ ref('int_indicator_definitions') }}
where not (
    (computation in ('agency_share', 'trained_share') and national_rule = 'ratio_of_sums')
    or (computation = 'measure_sum' and national_rule in ('ratio_of_sums', 'sum_of_provinces'))
    or (computation = 'province_share' and national_rule = 'share_of_all_provinces')
    or (computation = 'recommendation_status' and national_rule = 'lowest_reported_status')
)
