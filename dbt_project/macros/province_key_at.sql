{#- The province (int_province_periods.province_key) that a code means on a date. A code is
    read in the period its date falls in: 52 dated 2024 is legacy Bình Định, dated 2026 the
    current Gia Lai. A legacy-only code dated after the merger (49 in a late correction) can
    only mean the legacy province, so it is read as such rather than dropped.
    Pass qualified column names (`pairs.province_code`): the subquery has its own province_code,
    which an unqualified name would silently resolve to. -#}
{% macro province_key_at(province_code, on_date) -%}
    (
        select periods.province_key
        from {{ ref('int_province_periods') }} as periods
        where periods.province_code = {{ province_code }}
        order by
            ({{ on_date }} between periods.valid_from and coalesce(periods.valid_to, 'infinity'::date)) desc,
            periods.valid_from asc
        limit 1
    )
{%- endmacro %}
