with

source as (

    select * from {{ source('training_rosters', 'training_courses') }}

),

final as (

    select
        -- ids
        file_id,
        row_number as header_row_number,
        course_id,
        organiser_agency_code,

        -- attributes
        title as course_title,
        province_code::text as province_code,
        mode as course_mode,

        -- dates
        start_date,
        end_date

    from source

)

select * from final
