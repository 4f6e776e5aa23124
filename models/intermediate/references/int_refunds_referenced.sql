{#- Refunds for orders that do not exist (or are quarantined) are kept and flagged: they reach the
    quarantine through int_reference_violations and never reduce any order's net revenue.
    Two plausibility rules need the order too (docs/staging-rules.md): refunds of an order may
    not add up to more than its total (the refund that goes over is flagged), and a refund is
    converted at its order month's rate, so a foreign refund without that rate is flagged. -#}

with

refunds as (
    select * from {{ ref('stg_shop__refunds') }}
    where not is_quarantined
),

orders as (
    select * from {{ ref('stg_shop__orders') }}
),

-- refunds of the order up to and including each one, in refund order (earlier first)
refunded_so_far as (
    select
        refunds.refund_id,
        {{ sum_money(
            'refunds.amount',
            over='partition by refunds.order_id'
            ~ ' order by refunds.refunded_at asc nulls last, refunds.refund_id asc'
            ~ ' rows between unbounded preceding and current row'
        ) }} as refunded_amount
    from refunds
),

checked as (
    select
        refunds.*,
        case
            {{ reference_issue_branches('order_id', 'orders', 'order_id', 'order') }}
            when
                not {{ has_currency_rate(
                    'coalesce(refunds.currency, orders.currency)', 'orders.ordered_at'
                ) }}
                then '{{ no_currency_rate_reason() }}'
            when
                coalesce(refunds.currency, orders.currency) = orders.currency
                and refunded_so_far.refunded_amount > orders.total
                then 'refunds larger than the order total'
        end as reference_issue
    from refunds
    left join orders on refunds.order_id = orders.order_id
    left join refunded_so_far on refunds.refund_id = refunded_so_far.refund_id
),

final as (
    select
        checked.*,
        checked.reference_issue is null as is_reference_valid
    from checked
)

select * from final
