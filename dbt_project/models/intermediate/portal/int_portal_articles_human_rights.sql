-- Article-days of human-rights articles: rows tagged `human_rights`, from the latest export of
-- each portal and day (a day re-sent later replaces that day).
-- Incremental, as fct_portal_articles_daily: a run deletes and rebuilds only the portal-days
-- that have an export the model has not seen (macros in portal_days_to_rebuild.sql), so the
-- daily cost follows the new days, not the years of history.
{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        on_schema_change='fail',
        indexes=[
            {'columns': ['portal', 'stat_date']},
            {'columns': ['file_id']},
            {'columns': ['export_received_at']},
        ],
        pre_hook="{{ portal_days_prepare('file_id', 'export_received_at') }}",
        post_hook="{{ '' if is_incremental() else 'analyze ' ~ this }}",
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
        day_rows.file_id,
        day_rows.portal,
        day_rows.stat_date,
        max(files.received_at) as received_at
    from day_rows
    inner join files
        on day_rows.file_id = files.file_id
    group by day_rows.file_id, day_rows.portal, day_rows.stat_date

),

latest_exports as (

    select
        *,
        row_number() over (
            partition by portal, stat_date
            order by received_at desc, file_id desc
        ) as version_rank
    from day_exports

),

tagged as (

    select
        day_rows.*,
        latest_exports.received_at as export_received_at,
        -- a topic may carry several tags: "human_rights", "law; human_rights", "HUMAN_RIGHTS | news"
        'human_rights' = any(
            regexp_split_to_array(lower(trim(coalesce(day_rows.topic, ''))), '\s*[,;|]\s*')
        ) as is_human_rights,
        row_number() over (
            partition by day_rows.portal, day_rows.stat_date, day_rows.article_id
            order by day_rows.row_number desc
        ) as duplicate_rank
    from day_rows
    inner join latest_exports
        on
            day_rows.file_id = latest_exports.file_id
            and day_rows.portal = latest_exports.portal
            and day_rows.stat_date = latest_exports.stat_date
    where latest_exports.version_rank = 1

),

human_rights as (

    select * from tagged
    where is_human_rights and duplicate_rank = 1

),

-- the province a code means depends only on the code and the day: resolve each pair once
day_pairs as (

    select distinct
        province_code,
        stat_date
    from human_rights

),

day_provinces as (

    select
        province_code,
        stat_date,
        {{ province_key_at('day_pairs.province_code', 'day_pairs.stat_date') }} as province_key
    from day_pairs

),

located as (

    select
        human_rights.*,
        day_provinces.province_key
    from human_rights
    inner join day_provinces
        on
            human_rights.province_code = day_provinces.province_code
            and human_rights.stat_date = day_provinces.stat_date

),

final as (

    select
        -- ids
        located.file_id,
        located.row_number,
        located.portal,
        located.article_id,

        -- attributes
        located.stat_date,
        located.article_url,
        located.article_title,
        located.topic,
        located.language_code,
        languages.language_kind,

        -- province, read in the period of stat_date
        located.province_code as province_code_as_sent,
        located.province_key,
        province_periods.province_period,
        case when province_periods.province_period = 'legacy' then located.province_code end
            as legacy_province_code,
        province_periods.current_province_code,

        -- measures
        located.page_views,
        located.unique_visitors,

        -- timestamps
        located.published_at,
        -- when the export the row comes from was received (the incremental watermark)
        located.export_received_at

    from located
    left join languages
        on located.language_code = languages.language_code
    left join province_periods
        on located.province_key = province_periods.province_key

)

select * from final
