{#- docs/landing-contract.md bad input: "order lines without an order". Every clean staged order line, with
    whether its order exists among the clean staged orders. Lines that fail are kept here, reach
    the quarantine through int_reference_violations, and stay out of fct_order_lines. -#}

with

order_lines as (
    select * from {{ ref('stg_shop__order_lines') }}
    where not is_quarantined
),

orders as (
    select * from {{ ref('stg_shop__orders') }}
),

checked as (
    select
        order_lines.*,
        case
            {{ reference_issue_branches('order_id', 'orders', 'order_id', 'order') }}
        end as reference_issue
    from order_lines
    left join orders on order_lines.order_id = orders.order_id
),

final as (
    select
        checked.*,
        checked.reference_issue is null as is_reference_valid
    from checked
)

select * from final
