with

source as (

    select * from {{ source('training_rosters', 'training_attendance') }}

),

final as (

    select
        -- ids
        file_id,
        row_number,
        course_id,
        person_key::text as person_key,
        agency_code,

        -- attributes
        gender,
        position,
        category as category_code,

        -- flags
        attended as is_attended,
        completed as is_completed

    from source

)

select * from final
