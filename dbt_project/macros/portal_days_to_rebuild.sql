{#
    The portal-days an incremental portal model rebuilds: the days of exports it has not seen,
    i.e. published after its last run (file_id above the highest it holds) or received within
    the lookback (var portal_lookback_days, 3 days before the latest arrival it holds), which
    catches exports published out of file order. The model's own rows carry the watermark:
    `file_id_column` and `received_at_column` name them.

    The new exports' rows are found through published.portal_statistics' primary key (file_id
    first) with `file_id = any(array(...))`, an index scan rather than a join, so the models can
    hash every join (nested loops over misestimated rankings are quadratic when a backfill brings
    a year at once) and still read only what is new. `portal_day_rows` reads the rows of those
    days the same way, through the (portal, stat_date) index.
#}
{% macro portal_days_to_rebuild(article_days, files, file_id_column, received_at_column) %}
    select distinct
        new_rows.portal,
        new_rows.stat_date
    from {{ article_days }} as new_rows
    where new_rows.file_id = any(array(
        select new_files.file_id
        from {{ files }} as new_files
        cross join (
            select
                coalesce(max({{ file_id_column }}), 0) as last_file_id,
                max({{ received_at_column }}) - interval '{{ var("portal_lookback_days", 3) }} days' as lookback_from
            from {{ this }}
        ) as watermark
        where
            new_files.source_name = 'portal'
            and (new_files.file_id > watermark.last_file_id or new_files.received_at >= watermark.lookback_from)
    ))
{% endmacro %}


{#
    The rows of `article_days` on the days of `days_cte` (a CTE of portal, stat_date), looked up
    through the index on (portal, stat_date) by arrays of the portals and days, then matched.
#}
{% macro portal_day_rows(article_days, days_cte) %}
    select {{ article_days }}.*
    from {{ article_days }}
    inner join {{ days_cte }}
        on
            {{ article_days }}.portal = {{ days_cte }}.portal
            and {{ article_days }}.stat_date = {{ days_cte }}.stat_date
    where
        {{ article_days }}.portal = any(array(select distinct {{ days_cte }}.portal from {{ days_cte }}))
        and {{ article_days }}.stat_date = any(array(select distinct {{ days_cte }}.stat_date from {{ days_cte }}))
{% endmacro %}


{#
    A pre-hook for an incremental portal model kept by (portal, stat_date): delete the rows of
    the days about to be rebuilt. delete+insert alone only replaces the days the new rows have,
    so a day re-sent without any row the model keeps (a correction that drops the last
    human-rights article of a day) would keep its old rows. Run before the model's own query,
    whose watermark is then at most this one: it rebuilds these days and perhaps a few more.
    Nothing on a full build.
#}
{% macro delete_portal_days_to_rebuild(article_days, files, file_id_column, received_at_column) %}
    {% if is_incremental() %}
        delete from {{ this }} as kept
        using (
            {{ portal_days_to_rebuild(article_days, files, file_id_column, received_at_column) }}
        ) as rebuilt
        where kept.portal = rebuilt.portal and kept.stat_date = rebuilt.stat_date
    {% endif %}
{% endmacro %}
