-- The reporting periods agencies owe a report for: every year of the scheme and its quarters,
-- with the deadline of ref_reporting_calendar, up to the day the warehouse has data for. That day
-- (as_of_date) is the latest arrival in the landing ledger, so the list is the same however often
-- dbt runs, and periods that have not begun are not counted as missed.
with

calendar as (

    select * from {{ ref('ref_reporting_calendar') }}

),

indicators as (

    select * from {{ ref('ref_indicators') }}

),

files as (

    select * from {{ ref('stg_landing__files') }}

),

as_of as (

    -- deadlines are local dates: read the arrival time on the Viet Nam clock
    select (max(received_at) at time zone '{{ var("reporting_timezone", "Asia/Ho_Chi_Minh") }}')::date as as_of_date
    from files

),

years as (

    select generate_series(min(baseline_year), max(target_year))::integer as year
    from indicators

),

periods as (

    select
        years.year,
        calendar.frequency,
        calendar.period_kind as calendar_period_kind,
        case when calendar.period_kind = 'year' then 'year' else 'quarter' end as period_kind,
        case
            when calendar.period_kind = 'year' then years.year::text
            else years.year::text || '-' || calendar.period_kind
        end as period,
        case
            when calendar.period_kind = 'year' then make_date(years.year, 1, 1)
            else make_date(years.year, 3 * substr(calendar.period_kind, 2)::integer - 2, 1)
        end as period_start,
        make_date(years.year, calendar.deadline_month, calendar.deadline_day) as deadline_date
    from years
    cross join calendar

),

final as (

    select
        -- ids
        periods.period,

        -- period
        periods.period_kind,
        periods.calendar_period_kind,
        periods.frequency,
        periods.year,
        periods.period_start,
        (
            case
                when periods.period_kind = 'year' then periods.period_start + interval '1 year'
                else periods.period_start + interval '3 months'
            end - interval '1 day'
        )::date as period_end,
        periods.deadline_date,
        as_of.as_of_date

    from periods
    cross join as_of
    where periods.period_start <= as_of.as_of_date

)

select * from final
