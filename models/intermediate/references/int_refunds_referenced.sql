{#- Refunds for orders that do not exist (or are quarantined) are kept and flagged: they reach the
    quarantine through int_reference_violations and never reduce any order's net revenue. -#}

with

refunds as (
    select * from {{ ref('stg_shop__refunds') }}
    where not is_quarantined
),

orders as (
    select * from {{ ref('stg_shop__orders') }}
),

checked as (
    select
        refunds.*,
        case
            when orders.order_id is null then 'unknown order_id'
            when orders.is_quarantined then 'order_id refers to a quarantined order'
        end as reference_issue
    from refunds
    left join orders on refunds.order_id = orders.order_id
),

final as (
    select
        checked.*,
        checked.reference_issue is null as is_reference_valid
    from checked
)

select * from final
