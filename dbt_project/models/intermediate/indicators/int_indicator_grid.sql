-- Every row the progress marts must show, data or not: each indicator for each current
-- province (its history rolled up through the merger) and the nation over the scheme's years,
-- and for each legacy province over the years it existed. National rows carry the
-- pseudo-code '00', which no province has.
with

definitions as (

    select * from {{ ref('int_indicator_definitions') }}

),

province_periods as (

    select * from {{ ref('int_province_periods') }}

),

years as (

    select generate_series(min(baseline_year), max(target_year))::integer as year
    from definitions

),

areas as (

    select
        'current' as series,
        province_code,
        9999 as last_year
    from province_periods
    where province_period = 'current'

    union all

    select
        'legacy' as series,
        province_code,
        extract(year from valid_to)::integer as last_year
    from province_periods
    where province_period = 'legacy'

    union all

    select
        'national' as series,
        '00' as province_code,
        9999 as last_year

),

final as (

    select
        definitions.indicator_code,
        areas.series,
        areas.province_code,
        years.year,
        definitions.computation,
        definitions.unit,
        definitions.is_cumulative
    from definitions
    cross join areas
    inner join years
        on areas.last_year >= years.year

)

select * from final
