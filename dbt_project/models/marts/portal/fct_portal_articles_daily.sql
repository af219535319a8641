-- Daily portal statistics per portal and language. Only the current export of a portal and day
-- counts: the one received last (then the higher file_id), so a day re-sent later replaces that
-- day. Incremental: a run rebuilds only the portal-days that have an export the mart has not
-- seen (macros in portal_days_to_rebuild.sql: published after the last run, or received within the
-- lookback of var portal_lookback_days). Such a day is deleted and inserted whole,
-- keyed on (portal, stat_date) rather than on the row grain: a correction that drops the last
-- article of a language must drop that language's row too, which a merge on the row grain
-- would leave behind. A published file that is re-validated keeps its file_id: rebuild with
-- --full-refresh then. No column records when a load ran (wall-clock time): the rows depend
-- only on what was received and when, so a backfill builds what the daily runs built.
{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        on_schema_change='fail',
        indexes=[
            {'columns': ['portal', 'stat_date']},
            {'columns': ['source_file_id']},
            {'columns': ['source_received_at']},
        ],
        pre_hook="{{ portal_days_prepare('source_file_id', 'source_received_at') }}",
    )
}}

with

article_days as (

    select * from {{ ref('stg_portal_statistics__article_days') }}

),

files as (

    select * from {{ ref('stg_landing__files') }}

),

languages as (

    select * from {{ ref('ref_languages') }}

),

province_periods as (

    select * from {{ ref('int_province_periods') }}

),

{{ portal_day_rows() }}

day_exports as (

    select
        day_rows.portal,
        day_rows.stat_date,
        day_rows.file_id,
        files.received_at,
        mode() within group (order by day_rows.province_code) as province_code
    from day_rows
    inner join files
        on day_rows.file_id = files.file_id
    group by day_rows.portal, day_rows.stat_date, day_rows.file_id, files.received_at

),

ranked_exports as (

    select
        *,
        row_number() over (
            partition by portal, stat_date
            order by received_at desc, file_id desc
        ) as version_rank,
        count(*) over (partition by portal, stat_date) as day_versions
    from day_exports

),

current_exports as (

    select
        ranked_exports.*,
        {{ province_key_at('ranked_exports.province_code', 'ranked_exports.stat_date') }} as province_key
    from ranked_exports
    where ranked_exports.version_rank = 1

),

current_rows as (

    select
        day_rows.*,
        -- a topic may carry several tags ("human_rights; law"): the same reading as
        -- int_portal_articles_human_rights
        'human_rights' = any(
            regexp_split_to_array(lower(trim(coalesce(day_rows.topic, ''))), '\s*[,;|]\s*')
        ) as is_human_rights,
        coalesce(nullif(lower(trim(day_rows.language_code)), ''), 'und') as day_language_code,
        row_number() over (
            partition by day_rows.portal, day_rows.stat_date, day_rows.article_id
            order by day_rows.row_number desc
        ) as duplicate_rank
    from day_rows
    inner join current_exports
        on
            day_rows.file_id = current_exports.file_id
            and day_rows.portal = current_exports.portal
            and day_rows.stat_date = current_exports.stat_date

),

by_language as (

    select
        portal,
        stat_date,
        day_language_code as language_code,
        count(*) as articles,
        count(*) filter (where is_human_rights) as human_rights_articles,
        sum(page_views) as page_views,
        sum(unique_visitors) as unique_visitors,
        coalesce(sum(page_views) filter (where is_human_rights), 0) as human_rights_page_views
    from current_rows
    where duplicate_rank = 1
    group by portal, stat_date, day_language_code

),

final as (

    select
        -- ids
        by_language.stat_date,
        by_language.portal,
        by_language.language_code,

        -- attributes
        coalesce(languages.language_kind, 'unknown') as language_kind,
        'current:' || province_periods.current_province_code as province_key,
        province_periods.current_province_code as province_code,
        case when province_periods.province_period = 'legacy' then province_periods.province_code end
            as legacy_province_code,

        -- measures
        by_language.articles::integer as articles,
        by_language.human_rights_articles::integer as human_rights_articles,
        by_language.page_views::bigint as page_views,
        by_language.unique_visitors::bigint as unique_visitors,
        by_language.human_rights_page_views::bigint as human_rights_page_views,

        -- lineage
        current_exports.file_id as source_file_id,
        current_exports.received_at as source_received_at,
        current_exports.day_versions::integer as day_versions

    from by_language
    inner join current_exports
        on
            by_language.portal = current_exports.portal
            and by_language.stat_date = current_exports.stat_date
    left join languages
        on by_language.language_code = languages.language_code
    left join province_periods
        on current_exports.province_key = province_periods.province_key

)

select * from final
