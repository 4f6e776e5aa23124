{#- A checkout whose completed_order_id names no clean order is kept and flagged (quarantine
    through int_reference_violations, not in fct_checkouts). An abandoned checkout (no
    completed_order_id) is fine. -#}

with

checkouts as (
    select * from {{ ref('stg_shop__checkouts') }}
    where not is_quarantined
),

orders as (
    select * from {{ ref('stg_shop__orders') }}
),

checked as (
    select
        checkouts.*,
        case
            when checkouts.completed_order_id is null then null
            {{ reference_issue_branches('completed_order_id', 'orders', 'order_id', 'order') }}
        end as reference_issue
    from checkouts
    left join orders on checkouts.completed_order_id = orders.order_id
),

final as (
    select
        checked.*,
        checked.reference_issue is null as is_reference_valid
    from checked
)

select * from final
