-- Who takes over the duties of an agency whose register rows end, per duty field of the plan's
-- tasks (ref_plan_tasks.duty_field). The successor named on the agency's last register row
-- (successor_agency_code, "Đơn vị kế thừa") takes every duty, unless ref_duty_transfers sends
-- the duties of a field elsewhere: an agency of the transfer's from_unit whose last row ends the
-- day before the transfer hands those duties to the agency of the same province that matches
-- the transfer's to_unit on that day (the Sở Thông tin và Truyền thông's press and publishing
-- duties to the Sở Văn hóa, Thể thao và Du lịch, from 1 March 2025).
with

agencies as (

    select * from {{ ref('int_agencies_effective_dated') }}

),

units as (

    select * from {{ ref('ref_plan_units') }}
    where resolution = 'named'

),

transfers as (

    select * from {{ ref('ref_duty_transfers') }}

),

tasks as (

    select * from {{ ref('ref_plan_tasks') }}

),

duty_fields as (

    select distinct duty_field from tasks

),

last_rows as (

    select
        *,
        row_number() over (partition by agency_code order by valid_from desc) as recency_rank
    from agencies

),

ended as (

    select
        agency_code,
        province_key,
        valid_to as last_day,
        successor_agency_code
    from last_rows
    where recency_rank = 1 and valid_to is not null

),

-- register rows that match a named unit of the annex (its kind and its name pattern)
unit_rows as (

    select
        units.unit_name,
        agencies.agency_code,
        agencies.province_key,
        agencies.valid_from,
        agencies.valid_to
    from agencies
    inner join units
        on
            agencies.agency_kind = any(string_to_array(units.agency_kinds, ';'))
            and agencies.agency_name ~* units.name_pattern

),

transferred as (

    select distinct
        ended.agency_code,
        transfers.duty_field,
        heirs.agency_code as successor_agency_code,
        transfers.effective_from as taken_over_on,
        'ref_duty_transfers' as succession_basis,
        1 as basis_priority
    from ended
    inner join transfers
        on ended.last_day = transfers.effective_from - 1
    inner join unit_rows as predecessors
        on
            transfers.from_unit = predecessors.unit_name
            and ended.agency_code = predecessors.agency_code
    inner join unit_rows as heirs
        on
            transfers.to_unit = heirs.unit_name
            and ended.province_key = heirs.province_key
            and transfers.effective_from >= heirs.valid_from
            and transfers.effective_from <= coalesce(heirs.valid_to, 'infinity'::date)

),

registered as (

    select
        ended.agency_code,
        duty_fields.duty_field,
        ended.successor_agency_code,
        ended.last_day + 1 as taken_over_on,
        'register' as succession_basis,
        2 as basis_priority
    from ended
    cross join duty_fields
    where ended.successor_agency_code is not null

),

candidates as (

    select * from transferred
    union all
    select * from registered

),

ranked as (

    select
        *,
        rank() over (partition by agency_code, duty_field order by basis_priority) as basis_rank
    from candidates

),

final as (

    select
        -- ids
        agency_code,
        duty_field,
        successor_agency_code,

        -- succession
        taken_over_on,
        succession_basis

    from ranked
    where basis_rank = 1

)

select * from final
