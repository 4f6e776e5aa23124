{#- docs/kpis.md, purchase_ladder: one row per n = 1 ... 10, always ten rows (0 customers and a
    NULL probability on an empty warehouse). Valid orders per customer come from
    int_customer_purchases_summarized. -#}
with

customer_order_counts as (
    select * from {{ ref('int_customer_purchases_summarized') }}
),

rungs as (
    select cast(ladder.n as bigint) as n
    from (values (1), (2), (3), (4), (5), (6), (7), (8), (9), (10)) as ladder (n)
),

counted as (
    select
        rungs.n,
        count(
            case when customer_order_counts.valid_order_count >= rungs.n then 1 end
        ) as customers_with_at_least_n,
        count(
            case when customer_order_counts.valid_order_count >= rungs.n + 1 then 1 end
        ) as customers_with_at_least_n_plus_1
    from rungs
    left join customer_order_counts on rungs.n <= customer_order_counts.valid_order_count
    group by rungs.n
),

final as (
    select
        counted.n,
        counted.customers_with_at_least_n,
        counted.customers_with_at_least_n_plus_1,
        {{ next_purchase_probability(
            'counted.customers_with_at_least_n_plus_1', 'counted.customers_with_at_least_n'
        ) }} as next_purchase_probability
    from counted
)

select * from final
