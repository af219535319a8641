{#
    Incremental portal models (int_portal_articles_human_rights, fct_portal_articles_daily) keep
    whole portal-days: a run rebuilds the days of exports the model has not seen, i.e. published
    after its last run (file_id above the highest it holds) or received within the lookback (var
    portal_lookback_days, 3 days before the latest arrival it holds), which catches exports
    published out of file order. The model's own rows carry that watermark: `file_id_column` and
    `received_at_column` name them (both indexed, so reading it costs nothing).

    A pre-hook (portal_days_prepare) writes the days to a temporary table and deletes the model's
    rows of those days: delete+insert alone would only replace the days the new rows have, so a
    day re-sent without any row the model keeps (a correction that drops the last human-rights
    article of a day) would keep its old rows. The model then appends the rows of those days
    (portal_day_rows), read through published.portal_statistics' primary key and its
    (portal, stat_date) index with `= any(array(...))`: index scans, not joins, so the models can
    hash every join (nested loops over misestimated rankings are quadratic when a backfill brings
    years at once) and still read only what is new.
#}

{% macro portal_days_table() -%}
    portal_days_to_rebuild_{{ this.identifier }}
{%- endmacro %}


{% macro portal_days_prepare(file_id_column, received_at_column) %}
    {% if is_incremental() %}
        create temporary table {{ portal_days_table() }} on commit drop as
        select distinct
            new_rows.portal,
            new_rows.stat_date
        from {{ ref('stg_portal_statistics__article_days') }} as new_rows
        where new_rows.file_id = any(array(
            select new_files.file_id
            from {{ ref('stg_landing__files') }} as new_files
            cross join (
                select
                    coalesce((select max({{ file_id_column }}) from {{ this }}), 0) as last_file_id,
                    (select max({{ received_at_column }}) from {{ this }})
                    - interval '{{ var("portal_lookback_days", 3) }} days' as lookback_from
            ) as watermark
            where
                new_files.source_name = 'portal'
                and (new_files.file_id > watermark.last_file_id or new_files.received_at >= watermark.lookback_from)
        ));

        delete from {{ this }} as kept
        where
            kept.portal = any(array(select distinct portal from {{ portal_days_table() }}))
            and kept.stat_date = any(array(select distinct stat_date from {{ portal_days_table() }}))
            and (kept.portal, kept.stat_date) in (select portal, stat_date from {{ portal_days_table() }})
    {% endif %}
{% endmacro %}


{#
    The CTE `day_rows` of an incremental portal model (after its CTE `article_days`): on an
    incremental run, the rows of the days portal_days_prepare chose; on a full build, every row.
#}
{% macro portal_day_rows() %}
    {% if is_incremental() %}

        day_rows as (

            select article_days.*
            from article_days
            inner join {{ portal_days_table() }} as days_to_build
                on
                    article_days.portal = days_to_build.portal
                    and article_days.stat_date = days_to_build.stat_date
            where
                article_days.portal = any(array(select distinct portal from {{ portal_days_table() }}))
                and article_days.stat_date = any(array(select distinct stat_date from {{ portal_days_table() }}))

        ),

    {% else %}

        day_rows as (

            select * from article_days

        ),

    {% endif %}
{% endmacro %}
