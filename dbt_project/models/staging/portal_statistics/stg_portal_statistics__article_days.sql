with

source as (

    select * from {{ source('portal_statistics', 'portal_statistics') }}

),

final as (

    select
        -- ids
        file_id,
        row_number,
        portal,
        article_id,

        -- attributes
        stat_date,
        province_code::text as province_code,
        url as article_url,
        title as article_title,
        topic,
        language as language_code,

        -- measures
        page_views,
        unique_visitors,

        -- timestamps
        published_at

    from source

)

select * from final
