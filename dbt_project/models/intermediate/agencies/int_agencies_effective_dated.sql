with

register_rows as (

    select * from {{ ref('stg_agency_register__agencies') }}

),

files as (

    select * from {{ ref('stg_landing__files') }}

),

agency_kinds as (

    select * from {{ ref('ref_agency_kinds') }}

),

province_periods as (

    select * from {{ ref('int_province_periods') }}

),

register_files as (

    select distinct
        register_rows.file_id,
        files.original_name,
        files.received_at,
        -- a register is versioned per province; a file without that key stands on its own
        coalesce(files.version_province_code, 'file ' || files.file_id::text) as version_key
    from register_rows
    inner join files
        on register_rows.file_id = files.file_id

),

current_register_files as (

    select
        *,
        row_number() over (
            partition by version_key
            order by received_at desc, file_id desc
        ) as version_rank
    from register_files

),

current_rows as (

    select
        register_rows.*,
        current_register_files.original_name,
        current_register_files.received_at,
        row_number() over (
            partition by register_rows.agency_code, register_rows.valid_from
            order by current_register_files.received_at desc, register_rows.file_id desc, register_rows.row_number desc
        ) as duplicate_rank
    from register_rows
    inner join current_register_files
        on register_rows.file_id = current_register_files.file_id
    where current_register_files.version_rank = 1

),

effective as (

    select
        current_rows.*,
        agency_kinds.is_state_administrative,
        -- an open row ends where the agency's next row starts, and no row outlives its kind
        -- (district committees were abolished on 2025-06-30)
        least(
            current_rows.valid_to,
            lead(current_rows.valid_from) over (
                partition by current_rows.agency_code order by current_rows.valid_from
            ) - 1,
            agency_kinds.exists_to
        ) as effective_valid_to,
        {{ province_key_at('current_rows.province_code', 'current_rows.valid_from') }} as province_key
    from current_rows
    left join agency_kinds
        on current_rows.agency_kind = agency_kinds.agency_kind
    where current_rows.duplicate_rank = 1

),

final as (

    select
        -- ids
        effective.agency_code || '|' || effective.valid_from::text as agency_version_key,
        effective.agency_code,
        effective.file_id,
        effective.row_number,

        -- attributes
        effective.agency_name,
        effective.agency_kind,
        coalesce(effective.is_state_administrative, false) as is_state_administrative,
        effective.reporting_frequency,
        effective.reporting_frequency <> 'none' as is_expected_to_report,

        -- province, read in the period of valid_from
        effective.province_code as province_code_as_sent,
        effective.province_key,
        province_periods.province_period,
        case when province_periods.province_period = 'legacy' then effective.province_code end
            as legacy_province_code,
        province_periods.current_province_code,

        -- validity
        effective.valid_from,
        effective.valid_to as valid_to_as_sent,
        effective.effective_valid_to as valid_to,

        -- succession: who takes over when this row ends
        effective.successor_agency_code,

        -- lineage
        effective.original_name,
        effective.received_at

    from effective
    left join province_periods
        on effective.province_key = province_periods.province_key
    where effective.effective_valid_to is null or effective.effective_valid_to >= effective.valid_from

)

select * from final
