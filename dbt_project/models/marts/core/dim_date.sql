with

indicators as (

    select * from {{ ref('ref_indicators') }}

),

provinces_current as (

    select * from {{ ref('ref_provinces_current') }}

),

bounds as (

    select
        make_date(min(baseline_year), 1, 1) as first_day,
        make_date(max(target_year), 12, 31) as last_day
    from indicators

),

merger as (

    select min(valid_from) as merger_date
    from provinces_current

),

days as (

    select generate_series(bounds.first_day, bounds.last_day, interval '1 day')::date as date_day
    from bounds

),

final as (

    select
        -- ids
        days.date_day,

        -- calendar
        extract(year from days.date_day)::integer as year,
        extract(quarter from days.date_day)::integer as quarter,
        extract(month from days.date_day)::integer as month,
        extract(day from days.date_day)::integer as day_of_month,
        extract(isodow from days.date_day)::integer as iso_day_of_week,
        extract(week from days.date_day)::integer as iso_week,
        date_trunc('month', days.date_day)::date as month_start_date,
        date_trunc('quarter', days.date_day)::date as quarter_start_date,

        -- reporting periods, as submissions write them
        to_char(days.date_day, 'YYYY') as year_period,
        to_char(days.date_day, 'YYYY') || '-Q' || extract(quarter from days.date_day)::text as quarter_period,
        to_char(days.date_day, 'YYYY-MM') as month_period,

        -- the 2025 merger
        days.date_day < merger.merger_date as is_before_merger

    from days
    cross join merger

)

select * from final
