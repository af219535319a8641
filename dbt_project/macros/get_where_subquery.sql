{#
    dbt's `where` config of a data test, with one placeholder of ours: `__recent_files__` reads
    "rows of the files registered since the first file received in the last
    var('test_recent_days', 35) days before the latest arrival". The tests of the portal
    statistics (millions of rows) check what recent runs brought in, so the daily build's cost
    does not grow with the years of history; a --full-refresh build, or var test_full_history,
    tests every row. The window follows the data (the latest arrival), never the wall clock.
    The rest is dbt's own get_where_subquery.
#}
{% macro get_where_subquery(relation) -%}
    {%- set where = config.get('where', '') -%}
    {%- if where and '__recent_files__' in where -%}
        {%- set where = where | replace('__recent_files__', recent_files_predicate()) -%}
    {%- endif -%}
    {%- if where -%}
        {%- set filtered -%}
            (select * from {{ relation }} where {{ where }}) dbt_subquery
        {%- endset -%}
        {%- do return(filtered) -%}
    {%- else -%}
        {%- do return(relation) -%}
    {%- endif -%}
{%- endmacro %}


{% macro recent_files_predicate(file_id_column='file_id') -%}
    {%- if flags.FULL_REFRESH or var('test_full_history', false) -%}
        true
    {%- else -%}
        {{ file_id_column }} >= (
            select coalesce(min(recent.file_id), 0)
            from {{ source('landing', 'files') }} as recent
            where recent.received_at >= (
                select max(latest.received_at) - interval '{{ var("test_recent_days", 35) }} days'
                from {{ source('landing', 'files') }} as latest
            )
        )
    {%- endif -%}
{%- endmacro %}
