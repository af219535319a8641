-- The agencies that hold each task's duties, per year. The units the annex names for a task
-- (ref_plan_task_duties) are matched against the register through ref_plan_units: a named unit
-- to the agencies of its kind whose name matches its pattern (one per province: "Sở Thông tin
-- và Truyền thông"), a collective to every agency of its kinds ("các Sở, Ban, ngành"); units
-- that are unspecified ("các cơ quan, đơn vị liên quan") or outside the provinces' registers
-- (ministries, central press) hold nobody. A duty then passes down the successions
-- (int_agency_successions) until it reaches an agency in the register on the year's reference
-- date, 31 December (int_agency_years_in_scope, series current): who owes the year's report.
-- An agency holds a task once per year, as a lead when any lead unit resolves to it.
with recursive

duties as (

    select * from {{ ref('ref_plan_task_duties') }}

),

units as (

    select * from {{ ref('ref_plan_units') }}
    where resolution in ('named', 'collective')

),

tasks as (

    select * from {{ ref('ref_plan_tasks') }}

),

agencies as (

    select * from {{ ref('int_agencies_effective_dated') }}

),

agencies_in_scope as (

    select * from {{ ref('int_agency_years_in_scope') }}
    where series = 'current'

),

successions as (

    select * from {{ ref('int_agency_successions') }}

),

reporting_years as (

    select distinct year from {{ ref('int_reporting_periods') }}

),

task_years as (

    select
        tasks.task_code,
        tasks.duty_field,
        reporting_years.year,
        make_date(reporting_years.year, 12, 31) as reference_date
    from tasks
    inner join reporting_years
        on reporting_years.year between tasks.start_year and tasks.end_year

),

-- the agencies a unit names by themselves, whenever they were in the register
unit_agencies as (

    select distinct
        duties.task_code,
        duties.duty_role,
        duties.unit_position,
        duties.unit_name,
        agencies.agency_code
    from duties
    inner join units
        on duties.unit_name = units.unit_name
    inner join agencies
        on
            agencies.agency_kind = any(string_to_array(units.agency_kinds, ';'))
            and (units.name_pattern is null or agencies.agency_name ~* units.name_pattern)

),

holders (
    task_code, year, reference_date, duty_field, duty_role, unit_position, unit_name,
    agency_code, origin_agency_code, handovers
) as (

    select
        task_years.task_code,
        task_years.year,
        task_years.reference_date,
        task_years.duty_field,
        unit_agencies.duty_role,
        unit_agencies.unit_position,
        unit_agencies.unit_name,
        unit_agencies.agency_code,
        unit_agencies.agency_code as origin_agency_code,
        0 as handovers
    from task_years
    inner join unit_agencies
        on task_years.task_code = unit_agencies.task_code

    union all

    -- an agency that ended by the reference date hands its duty to its successor for the field
    select
        holders.task_code,
        holders.year,
        holders.reference_date,
        holders.duty_field,
        holders.duty_role,
        holders.unit_position,
        holders.unit_name,
        successions.successor_agency_code as agency_code,
        holders.origin_agency_code,
        holders.handovers + 1 as handovers
    from holders
    inner join successions
        on
            holders.agency_code = successions.agency_code
            and holders.duty_field = successions.duty_field
            and holders.reference_date >= successions.taken_over_on
    -- a register that names successors in a circle must not loop for ever
    where holders.handovers < 10

),

held_on_reference_date as (

    select
        holders.*,
        agencies_in_scope.agency_version_key,
        agencies_in_scope.is_expected_to_report
    from holders
    inner join agencies_in_scope
        on
            holders.agency_code = agencies_in_scope.agency_code
            and holders.year = agencies_in_scope.year

),

with_role as (

    select
        *,
        -- an agency both named as a lead and covered by a collective partner is a lead
        case
            when bool_or(duty_role = 'lead') over (partition by task_code, year, agency_code) then 'lead'
            else 'partner'
        end as agency_duty_role
    from held_on_reference_date

),

final as (

    select
        -- ids
        task_code,
        year,
        agency_code,
        min(agency_version_key) as agency_version_key,

        -- duty
        min(agency_duty_role) as duty_role,
        bool_and(is_expected_to_report) as is_expected_to_report,
        string_agg(distinct unit_name, '; ' order by unit_name) as duty_units,
        string_agg(
            distinct origin_agency_code, '; ' order by origin_agency_code
        ) filter (where origin_agency_code <> agency_code) as inherited_from_agency_codes

    from with_role
    where duty_role = agency_duty_role
    group by task_code, year, agency_code

)

select * from final
