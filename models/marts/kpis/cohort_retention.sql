{#- docs/kpis.md, cohort_retention: one row per acquisition month (the month of the customer's first
    valid order) x months since acquisition, 0 up to the month of as_of_date; cohorts with at
    least one customer only. -#}
with

orders as (
    select * from {{ ref('fct_orders') }}
),

valid_orders as (
    select
        orders.customer_key,
        orders.net_revenue,
        orders.customer_order_number,
        {{ month_start('orders.order_date') }} as month
    from orders
    where {{ is_customer_order_by_as_of('orders') }}
),

cohort_members as (
    select
        valid_orders.customer_key,
        valid_orders.month as cohort_month
    from valid_orders
    where valid_orders.customer_order_number = 1
),

cohorts as (
    select
        cohort_members.cohort_month,
        count(*) as cohort_size
    from cohort_members
    group by cohort_members.cohort_month
),

cohort_activity as (
    select
        cohort_members.cohort_month,
        valid_orders.month,
        count(distinct valid_orders.customer_key) as active_customers,
        {{ sum_money('valid_orders.net_revenue') }} as net_revenue
    from valid_orders
    inner join cohort_members on valid_orders.customer_key = cohort_members.customer_key
    group by cohort_members.cohort_month, valid_orders.month
),

months as (
    {{ months_through_as_of('cohorts', 'cohorts.cohort_month') }}
),

grid as (
    select
        cohorts.cohort_month,
        months.month,
        cohorts.cohort_size
    from cohorts
    inner join months on cohorts.cohort_month <= months.month
),

joined as (
    select
        grid.cohort_month,
        {{ dbt.datediff('grid.cohort_month', 'grid.month', 'month') }} as months_since_acquisition,
        grid.month,
        grid.cohort_size,
        coalesce(cohort_activity.active_customers, 0) as active_customers,
        coalesce(cohort_activity.net_revenue, 0) as net_revenue
    from grid
    left join cohort_activity
        on
            grid.cohort_month = cohort_activity.cohort_month
            and grid.month = cohort_activity.month
),

cumulative as (
    select
        joined.*,
        {{ sum_money(
            'joined.net_revenue',
            over='partition by joined.cohort_month order by joined.month'
            ~ ' rows between unbounded preceding and current row'
        ) }} as cumulative_net_revenue
    from joined
),

final as (
    select
        cumulative.cohort_month,
        cumulative.months_since_acquisition,
        cumulative.month,
        cumulative.cohort_size,
        cumulative.active_customers,
        {{ retention_rate('cumulative.active_customers', 'cumulative.cohort_size') }}
            as retention_rate,
        cumulative.net_revenue,
        cumulative.cumulative_net_revenue,
        {{ net_revenue_per_customer(
            'cumulative.cumulative_net_revenue', 'cumulative.cohort_size'
        ) }} as cumulative_net_revenue_per_customer
    from cumulative
)

select * from final
