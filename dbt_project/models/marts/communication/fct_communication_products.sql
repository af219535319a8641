-- Human-rights communication products per source, channel, language group, current province and
-- year (national rows: province_code `00`), from two sources that count different things:
--   agency_reports: what agencies report (products_* measures, each agency's figure for the year
--     from its latest report lines). Channel `all` splits products_total into ethnic-minority,
--     foreign and Vietnamese products, the last derived per agency as total - ethnic - foreign,
--     floored at 0 (an agency whose parts exceed its total adds no negative count); channel
--     `digital_platform` holds products_digital_platform, which cuts across languages.
--   portal_statistics: articles tagged human_rights on the provincial portals (channel
--     `provincial_portal`), each counted once, in the year it was published (Viet Nam time; its
--     first day with statistics when the export has no publication time) and the language group
--     of its language (ref_languages); an article in an unknown language counts in `all` only.
--     page_views are the views of such articles during the year, whenever they were published.
with

latest as (

    select * from {{ ref('int_submissions_latest') }}

),

articles as (

    select * from {{ ref('int_portal_articles_human_rights') }}

),

provinces as (

    select * from {{ ref('int_province_periods') }}
    where province_period = 'current'

),

product_measures as (

    select
        agency_code,
        period_year as year,
        max(current_province_code) as province_code,
        sum(measure_value) filter (where measure_code = 'products_total') as products_total,
        sum(measure_value) filter (where measure_code = 'products_ethnic_language') as products_ethnic,
        sum(measure_value) filter (where measure_code = 'products_foreign_language') as products_foreign,
        sum(measure_value) filter (where measure_code = 'products_digital_platform') as products_digital
    from latest
    where is_used_for_year and measure_code like 'products\_%'
    group by agency_code, period_year

),

agency_products as (

    select
        agency_code,
        year,
        province_code,
        coalesce(products_total, 0) as products_total,
        coalesce(products_ethnic, 0) as products_ethnic,
        coalesce(products_foreign, 0) as products_foreign,
        greatest(coalesce(products_total, 0) - coalesce(products_ethnic, 0) - coalesce(products_foreign, 0), 0)
            as products_vietnamese,
        coalesce(products_digital, 0) as products_digital
    from product_measures

),

agency_facts as (

    select
        'agency_reports' as data_source,
        split.channel,
        split.language_group,
        agency_products.province_code,
        agency_products.year,
        split.products,
        null::bigint as page_views,
        agency_products.agency_code,
        null as portal
    from agency_products
    cross join lateral (
        values
        ('all', 'all', agency_products.products_total),
        ('all', 'ethnic_minority', agency_products.products_ethnic),
        ('all', 'foreign', agency_products.products_foreign),
        ('all', 'vietnamese', agency_products.products_vietnamese),
        ('digital_platform', 'all', agency_products.products_digital)
    ) as split (channel, language_group, products)

),

article_groups as (

    select
        *,
        case language_kind
            when 'national' then 'vietnamese'
            when 'foreign' then 'foreign'
            when 'ethnic_minority' then 'ethnic_minority'
        end as language_group
    from articles

),

article_days as (

    select
        *,
        min(stat_date) over article as first_stat_date,
        min(published_at) over article as first_published_at,
        row_number() over (article order by stat_date desc) as recency_rank
    from article_groups
    window article as (partition by portal, article_id)

),

-- an article is one product, with the language and province of its latest day
article_products as (

    select
        portal,
        article_id,
        language_group,
        current_province_code as province_code,
        extract(year from coalesce(
            (first_published_at at time zone '{{ var("reporting_timezone", "Asia/Ho_Chi_Minh") }}')::date,
            first_stat_date
        ))::integer as year
    from article_days
    where recency_rank = 1

),

-- page views summed per portal, province, year and language group before they become facts (two
-- per group, `all` and the group's own): millions of article-days would otherwise be sorted for
-- the distinct counts below
portal_views as (

    select
        portal,
        current_province_code as province_code,
        extract(year from stat_date)::integer as year,
        language_group,
        sum(page_views) as page_views
    from article_groups
    group by portal, current_province_code, extract(year from stat_date)::integer, language_group

),

portal_facts as (

    select
        'portal_statistics' as data_source,
        'provincial_portal' as channel,
        language_groups.language_group,
        article_products.province_code,
        article_products.year,
        1 as products,
        0::bigint as page_views,
        null as agency_code,
        article_products.portal
    from article_products
    cross join lateral (values ('all'), (article_products.language_group)) as language_groups (language_group)
    where language_groups.language_group is not null

    union all

    select
        'portal_statistics' as data_source,
        'provincial_portal' as channel,
        language_groups.language_group,
        portal_views.province_code,
        portal_views.year,
        0 as products,
        portal_views.page_views,
        null as agency_code,
        portal_views.portal
    from portal_views
    cross join lateral (values ('all'), (portal_views.language_group)) as language_groups (language_group)
    where language_groups.language_group is not null

),

facts as (

    select * from agency_facts
    union all
    select * from portal_facts

),

province_totals as (

    select
        data_source,
        channel,
        language_group,
        province_code,
        year,
        sum(products) as products,
        sum(page_views) as page_views,
        count(distinct agency_code) as agencies_reporting,
        count(distinct portal) as portals_reporting
    from facts
    where province_code is not null
    group by data_source, channel, language_group, province_code, year

),

-- the nation counts everything, including what no province could be found for
national_totals as (

    select
        data_source,
        channel,
        language_group,
        '00' as province_code,
        year,
        sum(products) as products,
        sum(page_views) as page_views,
        count(distinct agency_code) as agencies_reporting,
        count(distinct portal) as portals_reporting
    from facts
    group by data_source, channel, language_group, year

),

totals as (

    select * from province_totals
    union all
    select * from national_totals

),

-- every language group of a source for each province and year the source has data for, so a
-- group with nothing reported reads 0 rather than missing
source_groups as (

    select distinct
        data_source,
        channel,
        language_group
    from agency_facts

    union all

    select
        'portal_statistics' as data_source,
        'provincial_portal' as channel,
        language_groups.language_group
    from (values ('all'), ('ethnic_minority'), ('foreign'), ('vietnamese')) as language_groups (language_group)

),

source_areas as (

    select distinct
        data_source,
        province_code,
        year
    from totals

),

grid as (

    select
        source_areas.data_source,
        source_groups.channel,
        source_groups.language_group,
        source_areas.province_code,
        source_areas.year,
        coalesce(totals.products, 0) as products,
        case when source_areas.data_source = 'portal_statistics' then coalesce(totals.page_views, 0) end
            as page_views,
        case
            when source_areas.data_source = 'agency_reports' then coalesce(totals.agencies_reporting, 0)
        end as agencies_reporting,
        case
            when source_areas.data_source = 'portal_statistics' then coalesce(totals.portals_reporting, 0)
        end as portals_reporting
    from source_areas
    inner join source_groups
        on source_areas.data_source = source_groups.data_source
    left join totals
        on
            source_areas.data_source = totals.data_source
            and source_groups.channel = totals.channel
            and source_groups.language_group = totals.language_group
            and source_areas.province_code = totals.province_code
            and source_areas.year = totals.year

),

shared as (

    select
        *,
        -- the source's products in all languages (digital platform is a cross-cutting count, not a total)
        max(products) filter (where language_group = 'all' and channel <> 'digital_platform') over (
            partition by data_source, province_code, year
        ) as source_products
    from grid

),

final as (

    select
        -- ids
        shared.data_source,
        shared.channel,
        shared.language_group,
        case when shared.province_code = '00' then 'national' else 'province' end as scope,
        provinces.province_key,
        shared.province_code,
        coalesce(provinces.province_name, 'Toàn quốc') as province_name,
        shared.year,

        -- measures
        shared.products::numeric as products,
        trim_scale(100.0 * shared.products / nullif(shared.source_products, 0)) as share_of_products,
        shared.page_views::bigint as page_views,
        shared.agencies_reporting::integer as agencies_reporting,
        shared.portals_reporting::integer as portals_reporting

    from shared
    left join provinces
        on shared.province_code = provinces.province_code

)

select * from final
