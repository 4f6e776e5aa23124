{#- docs/kpis.md: `as_of_date` defaults to the latest order date in the data. One row, read by every
    model through macro as_of_date(). The var comes from dbt_project.yml (CLM_AS_OF_DATE);
    empty means "not set". -#}
{%- set as_of_date_var = (var('as_of_date', '') or '') | string | trim -%}
{%- set as_of_date_sql = "cast('" ~ as_of_date_var ~ "' as date)" if as_of_date_var else "cast(null as date)" -%}

with

orders as (
    select * from {{ ref('stg_shop__orders') }}
),

latest_order as (
    select max(cast(orders.ordered_at as date)) as latest_order_date
    from orders
    where not orders.is_quarantined
),

final as (
    select
        coalesce({{ as_of_date_sql }}, latest_order.latest_order_date, current_date) as as_of_date,
        case
            when {{ as_of_date_sql }} is not null then 'var'
            when latest_order.latest_order_date is not null then 'latest_order'
            else 'current_date'
        end as as_of_date_source
    from latest_order
)

select * from final
