with

source as (

    select * from {{ source('landing', 'files') }}

),

final as (

    select
        -- ids
        file_id,
        source as source_name,
        original_name,
        sha256::text as sha256,
        size_bytes,

        -- status
        status as file_status,
        reason_code,
        rows_in,
        rows_loaded,
        rows_rejected,
        file_format,

        -- version keys
        agency_code as version_agency_code,
        province_code as version_province_code,
        period as version_period,
        portal as version_portal,
        stat_date as version_stat_date,
        course_id as version_course_id,
        duplicate_of_file_id,
        supersedes_file_id,
        is_current_version,

        -- timestamps
        received_at,
        loaded_at

    from source

)

select * from final
