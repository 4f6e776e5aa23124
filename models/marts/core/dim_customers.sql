{#- The single customer view: one row per resolved person (customer_key of
    int_identities_resolved), every person known to any source, whatever their activity. Activity
    columns are as of as_of_date (KPIS.md). Each block below is one CTE per subject, joined in
    `final`; the KPI marts (lifecycle, segments, RFM, CLV) join in the same way. -#}

with

identities as (
    select * from {{ ref('int_identities_resolved') }}
),

contacts as (
    -- the same rows identity reads: clean, or quarantined only for an invalid email
    select * from {{ ref('stg_crm__contacts') }}
    where {{ is_clean_or_only_invalid_email() }}
),

shop_customers as (
    select * from {{ ref('stg_shop__customers') }}
    where {{ is_clean_or_only_invalid_email() }}
),

orders as (
    select * from {{ ref('fct_orders') }}
),

subscriptions as (
    select * from {{ ref('fct_subscriptions') }}
),

email_events as (
    select * from {{ ref('fct_email_events') }}
),

support_tickets as (
    select * from {{ ref('fct_support_tickets') }}
),

feedback as (
    select * from {{ ref('fct_feedback') }}
),

channel_mapping as (
    select * from {{ ref('channel_mapping') }}
),

-- KPI marts: computed from the core facts, never from this model (no cycle)
customer_segments as (
    select * from {{ ref('customer_segments') }}
),

customer_clv as (
    select * from {{ ref('customer_clv') }}
),

-- identity: every identifier of the person, as sorted ', '-joined lists
identity_summary as (
    select
        customer_key,
        min(anchor_identifier_type) as anchor_identifier_type,
        min(anchor_identifier_value) as anchor_identifier_value,
        min(first_seen_at) as first_seen_at,
        count(*) as identifier_count,
        {{ sorted_list("case when identifier_type = 'email' then identifier_value end") }} as emails,
        {{ sorted_list("case when identifier_type = 'crm_contact_id' then identifier_value end") }}
            as crm_contact_ids,
        {{ sorted_list("case when identifier_type = 'shop_customer_id' then identifier_value end") }}
            as shop_customer_ids,
        {{ sorted_list("case when identifier_type = 'billing_customer_id' then identifier_value end") }}
            as billing_customer_ids,
        count(case when identifier_type = 'email' then 1 end) as email_count
    from identities
    group by customer_key
),

-- profile records of the person, newest first: CRM contacts before shop accounts
profile_records as (
    select
        identities.customer_key,
        1 as source_priority,
        contacts.created_at,
        coalesce(contacts.updated_at, contacts.created_at) as changed_at,
        case when contacts.is_valid_email then contacts.email end as email,
        contacts.first_name,
        contacts.last_name,
        contacts.country_code,
        contacts.acquisition_channel,
        contacts.has_marketing_opt_in
    from contacts
    inner join identities
        on
            identities.identifier_type = 'crm_contact_id'
            and contacts.crm_contact_id = identities.identifier_value

    union all

    select
        identities.customer_key,
        2 as source_priority,
        shop_customers.created_at,
        coalesce(shop_customers.updated_at, shop_customers.created_at) as changed_at,
        case when shop_customers.is_valid_email then shop_customers.email end as email,
        shop_customers.first_name,
        shop_customers.last_name,
        shop_customers.country_code,
        cast(null as {{ dbt.type_string() }}) as acquisition_channel,
        shop_customers.has_marketing_opt_in
    from shop_customers
    inner join identities
        on
            identities.identifier_type = 'shop_customer_id'
            and shop_customers.shop_customer_id = identities.identifier_value
),

profile_ranked as (
    select
        profile_records.*,
        row_number() over (
            partition by profile_records.customer_key
            order by profile_records.source_priority asc, profile_records.changed_at desc
        ) as recency_rank,
        -- KPIS.md acquisition channel fallback: the first CRM contact's acquisition_channel
        row_number() over (
            partition by profile_records.customer_key
            order by
                case when profile_records.acquisition_channel is null then 1 else 0 end asc,
                profile_records.source_priority asc,
                profile_records.created_at asc
        ) as acquisition_rank
    from profile_records
),

profile_summary as (
    select
        customer_key,
        max(case when recency_rank = 1 then email end) as profile_email,
        max(case when recency_rank = 1 then first_name end) as first_name,
        max(case when recency_rank = 1 then last_name end) as last_name,
        max(case when recency_rank = 1 then country_code end) as country_code,
        max(case when acquisition_rank = 1 then acquisition_channel end) as crm_acquisition_channel,
        max(case when has_marketing_opt_in then 1 else 0 end) = 1 as has_marketing_opt_in
    from profile_ranked
    group by customer_key
),

-- first email seen, for people known only by email
first_email as (
    select
        customer_key,
        identifier_value as email,
        row_number() over (
            partition by customer_key
            order by first_seen_at asc, identifier_value asc
        ) as email_rank
    from identities
    where identifier_type = 'email'
),

order_summary as (
    select
        customer_key,
        min(ordered_at) as first_ordered_at,
        max(ordered_at) as last_ordered_at,
        count(*) as valid_order_count,
        sum(net_revenue) as net_revenue,
        max(case when customer_order_number = 1 then utm_source end) as first_order_utm_source
    from orders
    where is_valid_order and customer_key is not null
    group by customer_key
),

subscription_summary as (
    select
        customer_key,
        count(*) as subscription_count,
        sum(case when is_active then 1 else 0 end) as active_subscription_count,
        coalesce(sum(case when is_active then monthly_price end), 0) as mrr
    from subscriptions
    where customer_key is not null
    group by customer_key
),

email_summary as (
    select
        customer_key,
        max(case when event_type = 'opened' then occurred_at end) as last_opened_at,
        max(case when event_type = 'clicked' then occurred_at end) as last_clicked_at,
        count(
            case
                when event_type = 'opened' and {{ dbt.datediff('event_date', as_of_date(), 'day') }} < 90
                    then 1
            end
        ) as opens_last_90_days,
        count(
            case
                when event_type = 'clicked' and {{ dbt.datediff('event_date', as_of_date(), 'day') }} < 90
                    then 1
            end
        ) as clicks_last_90_days,
        max(case when event_type = 'unsubscribed' then 1 else 0 end) = 1 as is_unsubscribed
    from email_events
    where customer_key is not null
    group by customer_key
),

ticket_ranked as (
    select
        customer_key,
        csat_score,
        row_number() over (
            partition by customer_key
            order by case when csat_score is null then 1 else 0 end asc, opened_at desc, ticket_id desc
        ) as csat_rank
    from support_tickets
    where customer_key is not null
),

ticket_summary as (
    select
        customer_key,
        count(*) as ticket_count,
        max(case when csat_rank = 1 then csat_score end) as last_csat_score
    from ticket_ranked
    group by customer_key
),

feedback_ranked as (
    select
        customer_key,
        feedback_type,
        score,
        row_number() over (
            partition by customer_key, feedback_type
            order by submitted_at desc, feedback_id desc
        ) as recency_rank
    from feedback
    where customer_key is not null
),

feedback_summary as (
    select
        customer_key,
        max(case when feedback_type = 'nps' and recency_rank = 1 then score end) as last_nps_score,
        avg(case when feedback_type = 'review' then cast(score as double) end) as review_average_score,
        count(case when feedback_type = 'review' then 1 end) as review_count
    from feedback_ranked
    group by customer_key
),

final as (
    select
        -- identity
        identity_summary.customer_key,
        coalesce(profile_summary.profile_email, first_email.email) as primary_email,
        identity_summary.emails,
        identity_summary.email_count,
        identity_summary.crm_contact_ids,
        identity_summary.shop_customer_ids,
        identity_summary.billing_customer_ids,
        identity_summary.identifier_count,
        identity_summary.anchor_identifier_type,
        identity_summary.anchor_identifier_value,
        -- profile
        profile_summary.first_name,
        profile_summary.last_name,
        profile_summary.country_code,
        identity_summary.first_seen_at,
        -- KPIS.md: first valid order's utm_source, else the CRM acquisition_channel, mapped
        coalesce(
            channel_mapping.channel,
            'unknown'
        ) as acquisition_channel,
        coalesce(profile_summary.has_marketing_opt_in, false) as has_marketing_opt_in,
        -- orders (valid, as of as_of_date)
        order_summary.first_ordered_at,
        order_summary.last_ordered_at,
        coalesce(order_summary.valid_order_count, 0) as valid_order_count,
        coalesce(order_summary.net_revenue, 0) as net_revenue,
        {{ safe_divide('order_summary.net_revenue', 'order_summary.valid_order_count') }}
            as average_order_value,
        -- subscriptions
        coalesce(subscription_summary.subscription_count, 0) as subscription_count,
        coalesce(subscription_summary.active_subscription_count, 0) as active_subscription_count,
        coalesce(subscription_summary.mrr, 0) as mrr,
        (
            coalesce(subscription_summary.subscription_count, 0) > 0
            and coalesce(subscription_summary.active_subscription_count, 0) = 0
        ) as is_subscription_churned,
        -- email
        email_summary.last_opened_at,
        email_summary.last_clicked_at,
        coalesce(email_summary.opens_last_90_days, 0) as opens_last_90_days,
        coalesce(email_summary.clicks_last_90_days, 0) as clicks_last_90_days,
        coalesce(email_summary.is_unsubscribed, false) as is_unsubscribed,
        -- service
        coalesce(ticket_summary.ticket_count, 0) as ticket_count,
        ticket_summary.last_csat_score,
        feedback_summary.last_nps_score,
        feedback_summary.review_average_score,
        coalesce(feedback_summary.review_count, 0) as review_count,
        -- lifecycle, segments and RFM (customer_segments), CLV (customer_clv)
        customer_segments.lifecycle_stage,
        customer_segments.activity_status,
        coalesce(customer_segments.is_hero, false) as is_hero,
        coalesce(customer_segments.is_negative_experience, false) as is_negative_experience,
        coalesce(customer_segments.is_cart_abandoner, false) as is_cart_abandoner,
        customer_segments.primary_segment,
        customer_segments.recency_score,
        customer_segments.frequency_score,
        customer_segments.monetary_score,
        customer_segments.rfm_score,
        customer_clv.historical_clv,
        customer_clv.predicted_clv
    from identity_summary
    left join profile_summary on identity_summary.customer_key = profile_summary.customer_key
    left join first_email
        on
            identity_summary.customer_key = first_email.customer_key
            and first_email.email_rank = 1
    left join order_summary on identity_summary.customer_key = order_summary.customer_key
    left join channel_mapping
        on
            channel_mapping.source_value = {{ channel_source_value(
                'coalesce(' ~ channel_source_value('order_summary.first_order_utm_source')
                ~ ', profile_summary.crm_acquisition_channel)'
            ) }}
    left join subscription_summary on identity_summary.customer_key = subscription_summary.customer_key
    left join email_summary on identity_summary.customer_key = email_summary.customer_key
    left join ticket_summary on identity_summary.customer_key = ticket_summary.customer_key
    left join feedback_summary on identity_summary.customer_key = feedback_summary.customer_key
    left join customer_segments on identity_summary.customer_key = customer_segments.customer_key
    left join customer_clv on identity_summary.customer_key = customer_clv.customer_key
)

select * from final
