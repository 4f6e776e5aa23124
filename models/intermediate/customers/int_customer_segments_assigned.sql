{#- Lifecycle, activity, value and segments per customer as of as_of_date: one row per resolved
    person. Separate dimensions that compose (a campaign filters on several), defined once here
    and read by the customer_segments mart, dim_customers and customer_segment_history. Every
    rule is documented on its column (models/intermediate/customers/_customers__models.yml). -#}
{%- set at_risk_after_days = "cast(" ~ var('at_risk_after_days') ~ " as integer)" -%}
{%- set inactive_after_days = "cast(" ~ var('inactive_after_days') ~ " as integer)" -%}
{%- set at_risk_after_gaps = "cast(" ~ var('at_risk_after_purchase_gaps') ~ " as double)" -%}
{%- set inactive_after_gaps = "cast(" ~ var('inactive_after_purchase_gaps') ~ " as double)" -%}
with

identities as (
    select * from {{ ref('int_identities_resolved') }}
),

contacts as (
    -- the contacts identity resolution reads: clean, or quarantined only for an invalid email
    select * from {{ ref('stg_crm__contacts') }}
    where {{ is_clean_or_only_invalid_email() }}
),

purchases as (
    select * from {{ ref('int_customer_purchases_summarized') }}
),

subscriptions as (
    select * from {{ ref('int_customer_subscriptions_summarized') }}
),

engagement as (
    select * from {{ ref('int_customer_engagement_summarized') }}
),

service as (
    select * from {{ ref('int_customer_service_summarized') }}
),

customers as (
    select distinct identities.customer_key
    from identities
    where identities.customer_key is not null
),

contact_customers as (
    select
        identities.identifier_value as crm_contact_id,
        identities.customer_key
    from identities
    where identities.identifier_type = 'crm_contact_id'
),

-- advocacy: referred a contact who became a buying customer
referrers as (
    select distinct referrer.customer_key
    from contacts
    inner join contact_customers as referrer
        on contacts.referred_by_crm_contact_id = referrer.crm_contact_id
    inner join contact_customers as referred
        on contacts.crm_contact_id = referred.crm_contact_id
    inner join purchases on referred.customer_key = purchases.customer_key
    where
        cast(contacts.created_at as date) <= {{ as_of_date() }}
        and referred.customer_key != referrer.customer_key
),

-- RFM over customers with >= 1 valid order. Score = 1 + floor(5 x percent_rank), at most 5,
-- ranked worst first: customers with equal values get the SAME score (percent_rank gives ties
-- the lowest rank of their group), so with many one-time buyers F jumps from 1 to 4 or 5.
rfm as (
    select
        purchases.customer_key,
        least(5, 1 + floor(5 * percent_rank() over (order by purchases.last_purchase_date asc)))
            as recency_score,
        least(5, 1 + floor(5 * percent_rank() over (order by purchases.valid_order_count asc)))
            as frequency_score,
        least(5, 1 + floor(5 * percent_rank() over (order by purchases.net_revenue asc)))
            as monetary_score
    from purchases
),

-- value tiers among repeat buyers (>= 2 valid orders) by net revenue, ties together:
-- cume_dist over net revenue descending = the share with this net revenue or more
value_ranks as (
    select
        purchases.customer_key,
        cume_dist() over (order by purchases.net_revenue desc) as net_revenue_share
    from purchases
    where purchases.valid_order_count >= 2
),

joined as (
    select
        customers.customer_key,
        coalesce(purchases.valid_order_count, 0) as valid_order_count,
        coalesce(purchases.net_revenue, 0) as net_revenue,
        purchases.last_purchase_date as last_order_date,
        purchases.days_since_last_purchase as recency_days,
        purchases.valid_order_count as frequency,
        purchases.net_revenue as monetary,
        purchases.expected_days_between_purchases,
        cast(rfm.recency_score as integer) as recency_score,
        cast(rfm.frequency_score as integer) as frequency_score,
        cast(rfm.monetary_score as integer) as monetary_score,
        value_ranks.net_revenue_share,
        coalesce(subscriptions.subscription_count, 0) as subscription_count,
        coalesce(subscriptions.has_active_subscription, false) as has_active_subscription,
        (
            coalesce(engagement.has_engaged_with_campaigns, false)
            or coalesce(engagement.has_started_checkout, false)
            or coalesce(service.ticket_count, 0) > 0
        ) as has_engaged,
        referrers.customer_key is not null as has_referred_a_buyer,
        coalesce(service.is_promoter, false) as is_promoter,
        coalesce(service.is_negative_experience, false) as is_negative_experience,
        -- docs/kpis.md cart abandoner: an abandoned checkout in the last 30 days, no valid order since
        coalesce(
            {{ dbt.datediff('cast(engagement.last_abandoned_checkout_at as date)', as_of_date(), 'day') }}
            <= 30
            and (
                purchases.last_ordered_at is null
                or purchases.last_ordered_at < engagement.last_abandoned_checkout_at
            ),
            false
        ) as is_cart_abandoner
    from customers
    left join purchases on customers.customer_key = purchases.customer_key
    left join rfm on customers.customer_key = rfm.customer_key
    left join value_ranks on customers.customer_key = value_ranks.customer_key
    left join subscriptions on customers.customer_key = subscriptions.customer_key
    left join engagement on customers.customer_key = engagement.customer_key
    left join service on customers.customer_key = service.customer_key
    left join referrers on customers.customer_key = referrers.customer_key
),

classified as (
    select
        joined.*,
        -- order recency against the customer's own rhythm (>= 2 purchase days), else fixed days
        case
            when joined.recency_days is null then null
            when joined.expected_days_between_purchases is not null
                then
                    case
                        when
                            joined.recency_days
                            > {{ inactive_after_gaps }} * joined.expected_days_between_purchases
                            then 'inactive'
                        when
                            joined.recency_days
                            > {{ at_risk_after_gaps }} * joined.expected_days_between_purchases
                            then 'at_risk'
                        else 'active'
                    end
            when joined.recency_days > {{ inactive_after_days }} then 'inactive'
            when joined.recency_days > {{ at_risk_after_days }} then 'at_risk'
            else 'active'
        end as purchase_status,
        case
            when joined.net_revenue_share <= 0.1 then 'top_10_percent'
            when joined.net_revenue_share <= 0.5 then 'next_40_percent'
            when joined.net_revenue_share is not null then 'bottom_50_percent'
            when joined.valid_order_count = 1 then 'one_time_buyer'
            else 'no_order'
        end as value_tier,
        case
            when
                joined.valid_order_count >= 2
                and (joined.has_referred_a_buyer or joined.is_promoter)
                then 'advocacy'
            when joined.valid_order_count >= 2 then 'retention'
            -- a subscriber has paid, orders or not: never awareness or engagement
            when joined.valid_order_count = 1 or joined.subscription_count > 0 then 'conversion'
            when joined.has_engaged then 'engagement'
            else 'awareness'
        end as lifecycle_stage,
        case
            when joined.recency_score is null then null
            when joined.recency_score = 5 and joined.frequency_score >= 4 then 'Champions'
            when joined.recency_score >= 3 and joined.frequency_score >= 4 then 'Loyal'
            when joined.recency_score >= 4 and joined.frequency_score >= 2 then 'Potential loyalist'
            when joined.recency_score = 5 then 'New'
            when joined.recency_score = 4 then 'Promising'
            when joined.recency_score = 3 and joined.frequency_score = 3 then 'Need attention'
            when joined.recency_score = 3 then 'About to sleep'
            when joined.frequency_score = 5 then 'Can''t lose them'
            when joined.frequency_score >= 3 then 'At risk'
            when joined.recency_score = 1 and joined.frequency_score = 1 then 'Lost'
            else 'Hibernating'
        end as rfm_segment
    from joined
),

activity as (
    select
        classified.*,
        case
            when classified.has_active_subscription then 'active'
            else classified.purchase_status
        end as activity_status
    from classified
),

flagged as (
    select
        activity.*,
        activity.value_tier = 'top_10_percent' and coalesce(activity.activity_status = 'active', false)
            as is_hero,
        -- lapsed: orders overdue for the customer's rhythm (at_risk or inactive), whatever
        -- keeps activity_status active (a subscription)
        activity.value_tier = 'top_10_percent'
        and coalesce(activity.purchase_status in ('at_risk', 'inactive'), false) as is_at_risk_hero
    from activity
),

segmented as (
    select
        flagged.*,
        cast(flagged.recency_score as string)
        || cast(flagged.frequency_score as string)
        || cast(flagged.monetary_score as string) as rfm_score,
        case
            when flagged.is_negative_experience then 'negative_experience'
            when flagged.is_at_risk_hero then 'at_risk_hero'
            when flagged.is_hero then 'hero'
            when flagged.is_cart_abandoner then 'cart_abandoner'
            when flagged.activity_status = 'at_risk' then 'at_risk'
            when flagged.activity_status = 'inactive' then 'inactive'
            when flagged.activity_status = 'active' then 'active'
            else 'prospect'
        end as primary_segment
    from flagged
),

final as (
    select
        segmented.customer_key,
        -- RFM
        segmented.recency_days,
        segmented.frequency,
        segmented.monetary,
        segmented.recency_score,
        segmented.frequency_score,
        segmented.monetary_score,
        segmented.rfm_score,
        segmented.rfm_segment,
        -- lifecycle, activity, value
        segmented.lifecycle_stage,
        segmented.purchase_status,
        segmented.activity_status,
        segmented.value_tier,
        -- flags and segment
        segmented.is_hero,
        segmented.is_at_risk_hero,
        segmented.is_negative_experience,
        segmented.is_cart_abandoner,
        segmented.primary_segment,
        -- inputs of the above, for drill-down
        segmented.valid_order_count,
        segmented.net_revenue,
        segmented.last_order_date,
        segmented.expected_days_between_purchases,
        segmented.has_active_subscription,
        segmented.has_engaged,
        segmented.has_referred_a_buyer,
        segmented.is_promoter
    from segmented
)

select * from final
