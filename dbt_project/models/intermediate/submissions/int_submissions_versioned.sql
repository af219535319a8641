-- Every published submission row with its place among the versions of the same report line
-- (agency x period x measure x task). The latest is the one from the file received last;
-- ties (two files stamped at the same instant) go to the later file_id, then the later row.
with

measure_values as (

    select * from {{ ref('stg_agency_submissions__measure_values') }}

),

files as (

    select * from {{ ref('stg_landing__files') }}

),

province_periods as (

    select * from {{ ref('int_province_periods') }}

),

-- the province a code means depends only on the code and the period's end: resolve each pair once
period_pairs as (

    select distinct
        province_code,
        period_end
    from measure_values

),

period_provinces as (

    select
        province_code,
        period_end,
        {{ province_key_at('period_pairs.province_code', 'period_pairs.period_end') }} as province_key
    from period_pairs

),

ranked as (

    select
        measure_values.*,
        files.original_name,
        files.received_at,
        row_number() over versions as version_rank,
        lag(measure_values.file_id) over versions as superseded_by_file_id,
        count(*) over (
            partition by
                measure_values.agency_code,
                measure_values.period,
                measure_values.measure_code,
                coalesce(measure_values.task_code, '')
        ) as versions_count,
        period_provinces.province_key
    from measure_values
    inner join files
        on measure_values.file_id = files.file_id
    inner join period_provinces
        on
            measure_values.province_code = period_provinces.province_code
            and measure_values.period_end = period_provinces.period_end
    window versions as (
        partition by
            measure_values.agency_code,
            measure_values.period,
            measure_values.measure_code,
            coalesce(measure_values.task_code, '')
        order by files.received_at desc, measure_values.file_id desc, measure_values.row_number desc
    )

),

final as (

    select
        -- ids
        ranked.file_id,
        ranked.row_number,
        ranked.agency_code,
        ranked.measure_code,
        ranked.task_code,

        -- period
        ranked.period,
        ranked.period_kind,
        ranked.period_start,
        ranked.period_end,
        extract(year from ranked.period_start)::integer as period_year,

        -- province, read in the period of period_end
        ranked.province_code as province_code_as_sent,
        ranked.province_key,
        province_periods.province_period,
        case when province_periods.province_period = 'legacy' then ranked.province_code end
            as legacy_province_code,
        province_periods.current_province_code,

        -- measures
        ranked.measure_value,
        ranked.agency_name,
        ranked.note,

        -- versions
        ranked.versions_count - ranked.version_rank + 1 as version_number,
        ranked.versions_count,
        ranked.version_rank = 1 as is_latest,
        ranked.superseded_by_file_id,

        -- lineage
        ranked.original_name,
        ranked.submitted_date,
        ranked.received_at

    from ranked
    left join province_periods
        on ranked.province_key = province_periods.province_key

)

select * from final
