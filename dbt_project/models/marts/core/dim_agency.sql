with

agencies as (

    select * from {{ ref('int_agencies_effective_dated') }}

),

agency_kinds as (

    select * from {{ ref('ref_agency_kinds') }}

),

province_periods as (

    select * from {{ ref('int_province_periods') }}

),

final as (

    select
        -- ids
        agencies.agency_version_key,
        agencies.agency_code,

        -- attributes
        agencies.agency_name,
        agencies.agency_kind,
        agency_kinds.label_vi as agency_kind_label_vi,
        agency_kinds.label_en as agency_kind_label_en,
        agencies.is_state_administrative,
        agencies.reporting_frequency,
        agencies.is_expected_to_report,

        -- province
        agencies.province_code_as_sent,
        agencies.province_key,
        agencies.province_period,
        agencies.legacy_province_code,
        agencies.current_province_code,
        province_periods.current_province_name,

        -- validity and succession
        agencies.valid_from,
        agencies.valid_to,
        agencies.valid_to_as_sent,
        agencies.successor_agency_code,
        row_number() over (
            partition by agencies.agency_code
            order by agencies.valid_from desc
        ) = 1 as is_latest_version,

        -- lineage
        agencies.file_id,
        agencies.row_number,
        agencies.original_name,
        agencies.received_at

    from agencies
    left join agency_kinds
        on agencies.agency_kind = agency_kinds.agency_kind
    left join province_periods
        on agencies.province_key = province_periods.province_key

)

select * from final
