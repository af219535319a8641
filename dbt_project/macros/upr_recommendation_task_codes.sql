{#- The UPR cycle III recommendations of Decision 1079 (no. 63, 67 and 86), as the task_code
    that task_status rows carry for them, rendered as a SQL list of literals. They belong in a
    reference seed; until the seed generator has one, the list lives here, in one place, next to
    the rule in ref_indicators (measure_rule of upr_recommendations). -#}
{% macro upr_recommendation_task_codes() -%}
    'UPR-63', 'UPR-67', 'UPR-86'
{%- endmacro %}
