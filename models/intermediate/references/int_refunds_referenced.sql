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

joined as (
    select
        refunds.*,
        orders.order_id is null as is_order_unknown,
        orders.is_quarantined as is_order_quarantined,
        orders.ordered_at as order_ordered_at,
        orders.total as order_total,
        orders.currency as order_currency,
        -- refunds of the order up to this one, in the order's currency (earlier first)
        sum(refunds.amount) over (
            partition by refunds.order_id
            order by refunds.refunded_at asc nulls last, refunds.refund_id asc
            rows between unbounded preceding and current row
        ) as refunded_so_far
    from refunds
    left join orders on refunds.order_id = orders.order_id
),

checked as (
    select
        joined.* exclude (
            is_order_unknown, is_order_quarantined, order_ordered_at, order_total, order_currency,
            refunded_so_far
        ),
        case
            when joined.is_order_unknown then 'unknown order_id'
            when joined.is_order_quarantined then 'order_id refers to a quarantined order'
            when
                not {{ has_currency_rate(
                    'coalesce(joined.currency, joined.order_currency)', 'joined.order_ordered_at'
                ) }}
                then '{{ no_currency_rate_reason() }}'
            when
                coalesce(joined.currency, joined.order_currency) = joined.order_currency
                and joined.refunded_so_far > joined.order_total
                then 'refunds larger than the order total'
        end as reference_issue
    from joined
),

final as (
    select
        checked.*,
        checked.reference_issue is null as is_reference_valid
    from checked
)

select * from final
