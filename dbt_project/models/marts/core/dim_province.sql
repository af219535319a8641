with

province_periods as (

    select * from {{ ref('int_province_periods') }}

),

final as (

    select
        -- ids
        province_key,
        province_code,
        province_period,

        -- names
        province_name,
        province_name_full,
        province_name_ascii as name_ascii,
        province_kind,

        -- validity
        province_period = 'current' as is_current,
        valid_from,
        valid_to,

        -- the merger
        current_province_code,
        current_province_name

    from province_periods

)

select * from final
