{#- docs/kpis.md, kpi_by_channel: one row per month x marketing channel (every channel of seed
    channel_mapping, plus email, sms and unknown), from the first month with new customers or
    spend up to the month of as_of_date. -#}
with

purchases as (
    select * from {{ ref('int_customer_purchases_summarized') }}
),

customers as (
    select * from {{ ref('int_customer_profiles_resolved') }}
),

marketing_spend as (
    select * from {{ ref('int_marketing_spend_unioned') }}
),

channel_mapping as (
    select * from {{ ref('channel_mapping') }}
),

-- new customers, by their acquisition channel (int_customer_profiles_resolved: docs/kpis.md's rule
-- lives there, not here); first-year net revenue: valid orders before the first order date +
-- 12 months (and up to as_of_date), from int_customer_purchases_summarized
new_customers_by_channel as (
    select
        {{ month_start('purchases.first_purchase_date') }} as month,
        coalesce(customers.acquisition_channel, 'unknown') as channel,
        count(*) as new_customers,
        {{ sum_money('purchases.first_year_net_revenue') }} as first_year_net_revenue
    from purchases
    left join customers on purchases.customer_key = customers.customer_key
    group by
        {{ month_start('purchases.first_purchase_date') }},
        coalesce(customers.acquisition_channel, 'unknown')
),

spend_by_channel as (
    select
        {{ month_start('marketing_spend.spend_date') }} as month,
        marketing_spend.channel,
        {{ sum_money('marketing_spend.spend') }} as spend,
        cast(sum(marketing_spend.clicks) as bigint) as clicks
    from marketing_spend
    group by {{ month_start('marketing_spend.spend_date') }}, marketing_spend.channel
),

channels as (
    select channel_mapping.channel from channel_mapping
    union
    select 'email' as channel
    union
    select 'sms' as channel
    union
    select 'unknown' as channel
    union
    select new_customers_by_channel.channel from new_customers_by_channel
    union
    select spend_by_channel.channel from spend_by_channel
),

months_with_data as (
    select new_customers_by_channel.month from new_customers_by_channel
    union all
    select spend_by_channel.month from spend_by_channel
),

months as (
    {{ months_through_as_of('months_with_data', 'months_with_data.month') }}
),

joined as (
    select
        months.month,
        channels.channel,
        coalesce(spend_by_channel.spend, 0) as spend,
        coalesce(new_customers_by_channel.new_customers, 0) as new_customers,
        coalesce(spend_by_channel.clicks, 0) as clicks,
        coalesce(new_customers_by_channel.first_year_net_revenue, 0) as first_year_net_revenue
    from months
    cross join channels
    left join spend_by_channel
        on months.month = spend_by_channel.month and channels.channel = spend_by_channel.channel
    left join new_customers_by_channel
        on
            months.month = new_customers_by_channel.month
            and channels.channel = new_customers_by_channel.channel
),

with_ratios as (
    select
        joined.month,
        joined.channel,
        joined.spend,
        joined.new_customers,
        {{ cac('joined.spend', 'joined.new_customers') }} as cac,
        joined.clicks,
        {{ conversion_rate('joined.new_customers', 'joined.clicks') }} as conversion_rate,
        joined.first_year_net_revenue,
        {{ net_revenue_per_customer('joined.first_year_net_revenue', 'joined.new_customers') }}
            as first_year_net_revenue_per_new_customer
    from joined
),

final as (
    select
        with_ratios.*,
        {{ ltv_to_cac('with_ratios.first_year_net_revenue_per_new_customer', 'with_ratios.cac') }}
            as ltv_to_cac
    from with_ratios
)

select * from final
