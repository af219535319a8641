-- Reporting rates the way DHIS2 computes them, per current province, year and kind of report
-- (the annual report and the quarterly reports are separate obligations, like two DHIS2 data
-- sets): completeness = received / expected, timeliness = received on time / expected. Only
-- expected reports count in the rates, so neither can exceed 100 %; reports nobody owed are
-- counted apart. Monthly reports are never owed and are left out.
with

compliance as (

    select * from {{ ref('fct_submission_compliance') }}

),

provinces as (

    select * from {{ ref('int_province_periods') }}
    where province_period = 'current'

),

reporting_periods as (

    select * from {{ ref('int_reporting_periods') }}

),

years as (

    select distinct year from reporting_periods

),

-- the kinds of report agencies owe (year, quarter); months never are
period_kinds as (

    select distinct period_kind from reporting_periods

),

owed_compliance as (

    select compliance.*
    from compliance
    inner join period_kinds
        on compliance.period_kind = period_kinds.period_kind

),

areas as (

    select
        'province' as scope,
        province_key,
        province_code,
        province_name
    from provinces

    union all

    select
        'national' as scope,
        null as province_key,
        '00' as province_code,
        'Toàn quốc' as province_name

),

counted_provinces as (

    select
        province_code,
        year,
        period_kind,
        count(*) filter (where is_expected) as expected,
        count(*) filter (where is_expected and is_received) as received,
        count(*) filter (where is_expected and is_on_time) as on_time,
        count(*) filter (where is_expected and not is_received and is_past_deadline) as overdue,
        count(*) filter (where not is_expected) as received_not_expected
    from owed_compliance
    where province_code is not null
    group by province_code, year, period_kind

),

-- the nation counts every report, including those no province could be found for
counted_national as (

    select
        '00' as province_code,
        year,
        period_kind,
        count(*) filter (where is_expected) as expected,
        count(*) filter (where is_expected and is_received) as received,
        count(*) filter (where is_expected and is_on_time) as on_time,
        count(*) filter (where is_expected and not is_received and is_past_deadline) as overdue,
        count(*) filter (where not is_expected) as received_not_expected
    from owed_compliance
    group by year, period_kind

),

counted as (

    select * from counted_provinces
    union all
    select * from counted_national

),

grid as (

    select
        areas.scope,
        areas.province_key,
        areas.province_code,
        areas.province_name,
        years.year,
        period_kinds.period_kind,
        coalesce(counted.expected, 0) as expected,
        coalesce(counted.received, 0) as received,
        coalesce(counted.on_time, 0) as on_time,
        coalesce(counted.overdue, 0) as overdue,
        coalesce(counted.received_not_expected, 0) as received_not_expected
    from areas
    cross join years
    cross join period_kinds
    left join counted
        on
            areas.province_code = counted.province_code
            and years.year = counted.year
            and period_kinds.period_kind = counted.period_kind

),

final as (

    select
        -- ids
        scope,
        province_key,
        province_code,
        province_name,
        year,
        period_kind,

        -- counts
        expected::integer as expected,
        received::integer as received,
        on_time::integer as on_time,
        (received - on_time)::integer as received_late,
        (expected - received)::integer as not_received,
        overdue::integer as overdue,
        received_not_expected::integer as received_not_expected,

        -- rates, percent
        trim_scale(100.0 * received / nullif(expected, 0)) as completeness_rate,
        trim_scale(100.0 * on_time / nullif(expected, 0)) as timeliness_rate

    from grid

)

select * from final
