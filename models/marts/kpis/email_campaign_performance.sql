{#- docs/kpis.md, email_campaign_performance: one row per campaign sent up to as_of_date. Every count
    is of distinct recipients (email addresses) with that event type, events up to as_of_date. -#}
with

campaigns as (
    select * from {{ ref('stg_email__campaigns') }}
    where not is_quarantined
),

marketing_spend as (
    select * from {{ ref('int_marketing_spend_unioned') }}
),

email_events as (
    select * from {{ ref('fct_email_events') }}
),

orders as (
    select * from {{ ref('fct_orders') }}
),

campaign_costs as (
    select
        marketing_spend.campaign_id,
        marketing_spend.channel,
        {{ sum_money('marketing_spend.spend') }} as cost
    from marketing_spend
    where marketing_spend.spend_source = 'email_campaign'
    group by marketing_spend.campaign_id, marketing_spend.channel
),

events_as_of as (
    select
        email_events.campaign_id,
        email_events.email,
        email_events.customer_key,
        email_events.event_type,
        email_events.occurred_at
    from email_events
    where cast(email_events.occurred_at as date) <= {{ as_of_date() }}
),

recipients_by_event as (
    select
        events_as_of.campaign_id,
        count(distinct case when events_as_of.event_type = 'sent' then events_as_of.email end)
            as sent,
        count(distinct case when events_as_of.event_type = 'bounced' then events_as_of.email end)
            as bounced,
        count(distinct case when events_as_of.event_type = 'opened' then events_as_of.email end)
            as opened,
        count(distinct case when events_as_of.event_type = 'clicked' then events_as_of.email end)
            as clicked,
        count(
            distinct case when events_as_of.event_type = 'unsubscribed' then events_as_of.email end
        ) as unsubscribed,
        count(
            distinct case when events_as_of.event_type = 'complained' then events_as_of.email end
        ) as complained
    from events_as_of
    group by events_as_of.campaign_id
),

valid_orders as (
    select
        orders.order_id,
        orders.customer_key,
        orders.ordered_at,
        orders.net_revenue
    from orders
    where {{ is_customer_order_by_as_of('orders') }}
),

-- a click converts when the clicking person places a valid order within
-- attribution_window_days after the click (docs/kpis.md); an order can count for several campaigns
converting_clicks as (
    select distinct
        events_as_of.campaign_id,
        events_as_of.email,
        valid_orders.order_id,
        valid_orders.net_revenue
    from events_as_of
    inner join valid_orders
        on
            events_as_of.customer_key = valid_orders.customer_key
            and events_as_of.occurred_at <= valid_orders.ordered_at
            and {{ dbt.dateadd(
                'day',
                'cast(' ~ var('attribution_window_days') ~ ' as integer)',
                'events_as_of.occurred_at',
            ) }} >= valid_orders.ordered_at
    where events_as_of.event_type = 'clicked'
),

conversions_by_campaign as (
    select
        converting_clicks.campaign_id,
        count(distinct converting_clicks.email) as conversions
    from converting_clicks
    group by converting_clicks.campaign_id
),

attributed_orders as (
    select distinct
        converting_clicks.campaign_id,
        converting_clicks.order_id,
        converting_clicks.net_revenue
    from converting_clicks
),

revenue_by_campaign as (
    select
        attributed_orders.campaign_id,
        count(*) as attributed_orders,
        {{ sum_money('attributed_orders.net_revenue') }} as attributed_net_revenue
    from attributed_orders
    group by attributed_orders.campaign_id
),

joined as (
    select
        campaigns.campaign_id,
        campaigns.campaign_name,
        campaign_costs.channel,
        campaigns.sent_at,
        coalesce(campaign_costs.cost, 0) as cost,
        coalesce(recipients_by_event.sent, 0) as sent,
        coalesce(recipients_by_event.bounced, 0) as bounced,
        coalesce(recipients_by_event.opened, 0) as opened,
        coalesce(recipients_by_event.clicked, 0) as clicked,
        coalesce(recipients_by_event.unsubscribed, 0) as unsubscribed,
        coalesce(recipients_by_event.complained, 0) as complained,
        coalesce(conversions_by_campaign.conversions, 0) as conversions,
        coalesce(revenue_by_campaign.attributed_orders, 0) as attributed_orders,
        coalesce(revenue_by_campaign.attributed_net_revenue, 0) as attributed_net_revenue
    from campaigns
    left join campaign_costs on campaigns.campaign_id = campaign_costs.campaign_id
    left join recipients_by_event on campaigns.campaign_id = recipients_by_event.campaign_id
    left join conversions_by_campaign
        on campaigns.campaign_id = conversions_by_campaign.campaign_id
    left join revenue_by_campaign on campaigns.campaign_id = revenue_by_campaign.campaign_id
    where cast(campaigns.sent_at as date) <= {{ as_of_date() }}
),

with_delivered as (
    select
        joined.*,
        joined.sent - joined.bounced as delivered
    from joined
),

final as (
    select
        with_delivered.campaign_id,
        with_delivered.campaign_name,
        with_delivered.channel,
        with_delivered.sent_at,
        with_delivered.cost,
        -- distinct recipients
        with_delivered.sent,
        with_delivered.bounced,
        with_delivered.delivered,
        with_delivered.opened,
        with_delivered.opened as impressions,
        with_delivered.delivered - with_delivered.opened as unopened,
        with_delivered.clicked,
        with_delivered.unsubscribed,
        with_delivered.complained,
        -- rates
        {{ open_rate('with_delivered.opened', 'with_delivered.delivered') }} as open_rate,
        {{ click_rate('with_delivered.clicked', 'with_delivered.delivered') }} as click_rate,
        {{ click_to_open_rate('with_delivered.clicked', 'with_delivered.opened') }}
            as click_to_open,
        {{ cost_per_impression('with_delivered.cost', 'with_delivered.opened') }}
            as cost_per_impression,
        -- conversions
        with_delivered.conversions,
        {{ conversion_rate('with_delivered.conversions', 'with_delivered.clicked') }}
            as conversion_rate,
        with_delivered.attributed_orders,
        with_delivered.attributed_net_revenue
    from with_delivered
)

select * from final
