-- A province code only has meaning with its period: 52 is Bình Định before 2025-07-01 and the
-- merged Gia Lai after. One row per code and period, each pointing at the current province it
-- belongs to now.
with

provinces_legacy as (

    select * from {{ ref('ref_provinces_legacy') }}

),

provinces_current as (

    select * from {{ ref('ref_provinces_current') }}

),

province_mapping as (

    select * from {{ ref('ref_province_mapping') }}

),

legacy_periods as (

    select
        provinces_legacy.province_code,
        'legacy' as province_period,
        provinces_legacy.province_name,
        provinces_legacy.province_name_full,
        provinces_legacy.province_name_ascii,
        provinces_legacy.province_kind,
        provinces_legacy.valid_from,
        provinces_legacy.valid_to,
        province_mapping.current_province_code
    from provinces_legacy
    inner join province_mapping
        on provinces_legacy.province_code = province_mapping.legacy_province_code

),

current_periods as (

    select
        province_code,
        'current' as province_period,
        province_name,
        province_name_full,
        province_name_ascii,
        province_kind,
        valid_from,
        valid_to,
        province_code as current_province_code
    from provinces_current

),

unioned as (

    select * from legacy_periods
    union all
    select * from current_periods

),

final as (

    select
        unioned.province_period || ':' || unioned.province_code as province_key,
        unioned.province_code,
        unioned.province_period,
        unioned.province_name,
        unioned.province_name_full,
        unioned.province_name_ascii,
        unioned.province_kind,
        unioned.valid_from,
        unioned.valid_to,
        unioned.current_province_code,
        current_names.province_name as current_province_name
    from unioned
    inner join provinces_current as current_names
        on unioned.current_province_code = current_names.province_code

)

select * from final
