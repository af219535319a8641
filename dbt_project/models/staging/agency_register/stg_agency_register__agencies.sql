with

source as (

    select * from {{ source('agency_register', 'agency_register') }}

),

final as (

    select
        -- ids
        file_id,
        row_number,
        agency_code,

        -- attributes
        agency_name,
        province_code::text as province_code,
        agency_kind,
        reporting as reporting_frequency,

        -- validity
        valid_from,
        valid_to,

        -- succession
        successor_agency_code

    from source

)

select * from final
