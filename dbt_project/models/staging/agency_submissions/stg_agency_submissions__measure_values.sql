with

source as (

    select * from {{ source('agency_submissions', 'agency_submissions') }}

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
        period,
        period_kind,
        period_start,
        period_end,
        measure_code,
        task_code,

        -- measures
        value::numeric as measure_value,
        note,

        -- dates
        submitted_at as submitted_date

    from source

)

select * from final
