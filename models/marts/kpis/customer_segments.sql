{#- KPIS.md, customer_segments: one row per customer_key (every resolved person), as of
    as_of_date. Built from the core facts and the identity model, never from dim_customers
    (dim_customers joins this model). -#}
with

identities as (
    select * from {{ ref('int_identities_resolved') }}
),

contacts as (
    -- the contacts identity resolution reads: clean, or quarantined only for an invalid email
    select * from {{ ref('stg_crm__contacts') }}
    where {{ is_clean_or_only_invalid_email() }}
),

orders as (
    select * from {{ ref('fct_orders') }}
),

email_events as (
    select * from {{ ref('fct_email_events') }}
),

checkouts as (
    select * from {{ ref('fct_checkouts') }}
),

support_tickets as (
    select * from {{ ref('fct_support_tickets') }}
),

feedback as (
    select * from {{ ref('fct_feedback') }}
),

customers as (
    select distinct identities.customer_key
    from identities
    where identities.customer_key is not null
),

valid_orders as (
    select
        orders.customer_key,
        orders.ordered_at,
        orders.order_date,
        orders.net_revenue
    from orders
    where
        orders.is_valid_order
        and orders.customer_key is not null
        and orders.order_date <= {{ as_of_date() }}
),

order_summary as (
    select
        valid_orders.customer_key,
        count(*) as valid_order_count,
        sum(valid_orders.net_revenue) as net_revenue,
        max(valid_orders.ordered_at) as last_ordered_at,
        max(valid_orders.order_date) as last_order_date
    from valid_orders
    group by valid_orders.customer_key
),

-- RFM: quintile scores over customers with >= 1 valid order, 5 = best (most recent, most
-- orders, most net revenue); ties split by customer_key so the scores are deterministic
rfm as (
    select
        order_summary.customer_key,
        {{ dbt.datediff('order_summary.last_order_date', as_of_date(), 'day') }} as recency_days,
        order_summary.valid_order_count as frequency,
        order_summary.net_revenue as monetary,
        ntile(5) over (
            order by order_summary.last_order_date asc, order_summary.customer_key asc
        ) as recency_score,
        ntile(5) over (
            order by order_summary.valid_order_count asc, order_summary.customer_key asc
        ) as frequency_score,
        ntile(5) over (
            order by order_summary.net_revenue asc, order_summary.customer_key asc
        ) as monetary_score
    from order_summary
),

-- hero candidates: top 10 % by net revenue among customers with >= 2 valid orders
-- (cume_dist <= 0.1: at most 10 % of them have this net revenue or more)
net_revenue_ranks as (
    select
        order_summary.customer_key,
        cume_dist() over (order by order_summary.net_revenue desc) <= 0.1 as is_top_decile
    from order_summary
    where order_summary.valid_order_count >= 2
),

engaged_customers as (
    -- union (not union all): one row per customer
    select email_events.customer_key
    from email_events
    where
        email_events.event_type in ('opened', 'clicked')
        and cast(email_events.occurred_at as date) <= {{ as_of_date() }}
    union
    select checkouts.customer_key
    from checkouts
    where cast(checkouts.created_at as date) <= {{ as_of_date() }}
    union
    select support_tickets.customer_key
    from support_tickets
    where cast(support_tickets.opened_at as date) <= {{ as_of_date() }}
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
    inner join order_summary on referred.customer_key = order_summary.customer_key
    where
        cast(contacts.created_at as date) <= {{ as_of_date() }}
        and referred.customer_key != referrer.customer_key
),

feedback_as_of as (
    select
        feedback.customer_key,
        feedback.feedback_type,
        feedback.score,
        cast(feedback.submitted_at as date) as feedback_date
    from feedback
    where cast(feedback.submitted_at as date) <= {{ as_of_date() }}
),

promoters as (
    select distinct feedback_as_of.customer_key
    from feedback_as_of
    where
        (feedback_as_of.feedback_type = 'nps' and {{ is_nps_promoter('feedback_as_of.score') }})
        or (feedback_as_of.feedback_type = 'review' and feedback_as_of.score >= 4)
),

-- negative experience: NPS <= 6, CSAT <= 2 or review <= 2 in the last 180 days (KPIS.md)
negative_experiences as (
    select feedback_as_of.customer_key
    from feedback_as_of
    where
        {{ dbt.datediff('feedback_as_of.feedback_date', as_of_date(), 'day') }} <= 180
        and (
            (feedback_as_of.feedback_type = 'nps' and feedback_as_of.score <= 6)
            or (feedback_as_of.feedback_type = 'review' and feedback_as_of.score <= 2)
        )
    union
    select support_tickets.customer_key
    from support_tickets
    where
        support_tickets.csat_score <= 2
        and cast(coalesce(support_tickets.resolved_at, support_tickets.opened_at) as date)
        <= {{ as_of_date() }}
        and {{ dbt.datediff(
            'cast(coalesce(support_tickets.resolved_at, support_tickets.opened_at) as date)',
            as_of_date(),
            'day',
        ) }} <= 180
),

-- cart abandoner: an abandoned checkout in the last 30 days and no valid order since it
last_abandoned_checkouts as (
    select
        checkouts.customer_key,
        max(checkouts.created_at) as last_abandoned_at
    from checkouts
    where
        checkouts.is_abandoned
        and cast(checkouts.created_at as date) <= {{ as_of_date() }}
        and {{ dbt.datediff('cast(checkouts.created_at as date)', as_of_date(), 'day') }} <= 30
    group by checkouts.customer_key
),

cart_abandoners as (
    select last_abandoned_checkouts.customer_key
    from last_abandoned_checkouts
    left join order_summary
        on last_abandoned_checkouts.customer_key = order_summary.customer_key
    where
        order_summary.last_ordered_at is null
        or order_summary.last_ordered_at < last_abandoned_checkouts.last_abandoned_at
),

joined as (
    select
        customers.customer_key,
        coalesce(order_summary.valid_order_count, 0) as valid_order_count,
        coalesce(order_summary.net_revenue, 0) as net_revenue,
        order_summary.last_order_date,
        rfm.recency_days,
        rfm.frequency,
        rfm.monetary,
        rfm.recency_score,
        rfm.frequency_score,
        rfm.monetary_score,
        case
            when order_summary.customer_key is null then null
            when rfm.recency_days > cast({{ var('inactive_after_days') }} as integer) then 'inactive'
            when rfm.recency_days > cast({{ var('at_risk_after_days') }} as integer) then 'at_risk'
            else 'active'
        end as activity_status,
        coalesce(net_revenue_ranks.is_top_decile, false) as is_top_decile,
        engaged_customers.customer_key is not null as has_engaged,
        referrers.customer_key is not null as has_referred_a_buyer,
        promoters.customer_key is not null as is_promoter,
        negative_experiences.customer_key is not null as is_negative_experience,
        cart_abandoners.customer_key is not null as is_cart_abandoner
    from customers
    left join order_summary on customers.customer_key = order_summary.customer_key
    left join rfm on customers.customer_key = rfm.customer_key
    left join net_revenue_ranks on customers.customer_key = net_revenue_ranks.customer_key
    left join engaged_customers on customers.customer_key = engaged_customers.customer_key
    left join referrers on customers.customer_key = referrers.customer_key
    left join promoters on customers.customer_key = promoters.customer_key
    left join negative_experiences
        on customers.customer_key = negative_experiences.customer_key
    left join cart_abandoners on customers.customer_key = cart_abandoners.customer_key
),

classified as (
    select
        joined.*,
        case
            when
                joined.valid_order_count >= 2
                and (joined.has_referred_a_buyer or joined.is_promoter)
                then 'advocacy'
            when joined.valid_order_count >= 2 then 'retention'
            when joined.valid_order_count = 1 then 'conversion'
            when joined.has_engaged then 'engagement'
            else 'awareness'
        end as lifecycle_stage,
        joined.is_top_decile and coalesce(joined.activity_status = 'active', false) as is_hero,
        cast(joined.recency_score as varchar)
        || cast(joined.frequency_score as varchar)
        || cast(joined.monetary_score as varchar) as rfm_score
    from joined
),

segmented as (
    select
        classified.*,
        case
            when classified.is_negative_experience then 'negative_experience'
            when classified.is_cart_abandoner then 'cart_abandoner'
            when classified.is_hero then 'hero'
            when classified.activity_status = 'at_risk' then 'at_risk'
            when classified.activity_status = 'inactive' then 'inactive'
            when classified.activity_status = 'active' then 'active'
            else 'prospect'
        end as primary_segment
    from classified
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
        -- lifecycle and activity
        segmented.lifecycle_stage,
        segmented.activity_status,
        -- flags and segment
        segmented.is_hero,
        segmented.is_negative_experience,
        segmented.is_cart_abandoner,
        segmented.primary_segment,
        -- inputs of the above, for drill-down
        segmented.valid_order_count,
        segmented.net_revenue,
        segmented.last_order_date,
        segmented.has_engaged,
        segmented.has_referred_a_buyer,
        segmented.is_promoter
    from segmented
)

select * from final
