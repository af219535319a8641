-- The latest version of every report line, and which lines make an agency's figure for a year.
-- An agency may report a measure for the year, per quarter or per month. Counts of things done
-- (products, books, exhibitions...) add up over the periods of one kind, the coarsest the
-- agency used that year, so an annual figure is never added to the quarters it already covers.
-- Headcounts, yes/no flags and task statuses describe a state: the figure for the year is the
-- one of the latest period reported.
with

versions as (

    select * from {{ ref('int_submissions_versioned') }}

),

measures as (

    select * from {{ ref('ref_measures') }}

),

latest as (

    select
        versions.*,
        case
            when measures.value_kind = 'count' and not measures.is_headcount then 'sum'
            else 'last'
        end as aggregation,
        case versions.period_kind
            when 'year' then 1
            when 'quarter' then 2
            when 'month' then 3
        end as period_kind_rank
    from versions
    left join measures
        on versions.measure_code = measures.measure_code
    where versions.is_latest

),

ranked as (

    select
        *,
        min(period_kind_rank) over agency_year as coarsest_kind_rank,
        row_number() over (
            partition by agency_code, period_year, measure_code, coalesce(task_code, '')
            order by period_end desc, period_kind_rank asc
        ) as recency_rank
    from latest
    window agency_year as (
        partition by agency_code, period_year, measure_code, coalesce(task_code, '')
    )

),

final as (

    select
        -- ids
        file_id,
        row_number,
        agency_code,
        measure_code,
        task_code,

        -- period
        period,
        period_kind,
        period_start,
        period_end,
        period_year,

        -- province
        province_code_as_sent,
        province_key,
        province_period,
        legacy_province_code,
        current_province_code,

        -- measures
        measure_value,
        agency_name,
        note,
        aggregation,
        case aggregation
            when 'sum' then period_kind_rank = coarsest_kind_rank
            else recency_rank = 1
        end as is_used_for_year,

        -- versions
        version_number,
        versions_count,

        -- lineage
        original_name,
        submitted_date,
        received_at

    from ranked

)

select * from final
