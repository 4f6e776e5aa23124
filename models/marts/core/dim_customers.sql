{#- The single customer view: one row per resolved person (customer_key of
    int_identities_resolved), every person known to any source, whatever their activity. Activity
    columns are as of as_of_date (docs/kpis.md). Every block is one per-customer model of
    intermediate/customers, joined here; nothing is computed twice and nothing is read from the
    KPI marts. The brief's audience is one where clause:
    `where is_at_risk_hero and has_active_subscription and has_opened_email_last_30_days`. -#}

with

identities as (
    select * from {{ ref('int_identities_resolved') }}
),

profiles as (
    select * from {{ ref('int_customer_profiles_resolved') }}
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

consents as (
    select * from {{ ref('int_customer_consents_resolved') }}
),

service as (
    select * from {{ ref('int_customer_service_summarized') }}
),

segments as (
    select * from {{ ref('int_customer_segments_assigned') }}
),

clv as (
    select * from {{ ref('int_customer_clv_estimated') }}
),

-- identity: every identifier of the person, as sorted ', '-joined lists
identity_summary as (
    select
        customer_key,
        min(anchor_identifier_type) as anchor_identifier_type,
        min(anchor_identifier_value) as anchor_identifier_value,
        min(first_seen_at) as first_seen_at,
        count(*) as identifier_count,
        {{ sorted_list("case when identifier_type = 'email' then identifier_value end") }}
            as emails,
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

final as (
    -- column order is the documented layout, not ST06's
    select  -- noqa: ST06
        -- identity
        identity_summary.customer_key,
        profiles.primary_email,
        identity_summary.emails,
        identity_summary.email_count,
        identity_summary.crm_contact_ids,
        identity_summary.shop_customer_ids,
        identity_summary.billing_customer_ids,
        identity_summary.identifier_count,
        identity_summary.anchor_identifier_type,
        identity_summary.anchor_identifier_value,
        -- profile
        profiles.first_name,
        profiles.last_name,
        profiles.country_code,
        identity_summary.first_seen_at,
        profiles.acquisition_channel,
        -- consent, per channel (int_customer_consents_resolved)
        profiles.has_marketing_opt_in,
        coalesce(consents.can_email, false) as can_email,
        consents.email_consent_source,
        consents.email_consent_reason,
        consents.email_consent_at,
        coalesce(consents.can_sms, false) as can_sms,
        consents.sms_consent_source,
        consents.sms_consent_reason,
        consents.sms_consent_at,
        -- orders (valid, as of as_of_date)
        purchases.first_ordered_at,
        purchases.last_ordered_at,
        coalesce(purchases.valid_order_count, 0) as valid_order_count,
        coalesce(purchases.net_revenue, 0) as net_revenue,
        purchases.aov,
        purchases.expected_days_between_purchases,
        -- subscriptions
        coalesce(subscriptions.subscription_count, 0) as subscription_count,
        coalesce(subscriptions.active_subscription_count, 0) as active_subscription_count,
        coalesce(subscriptions.has_active_subscription, false) as has_active_subscription,
        coalesce(subscriptions.mrr, 0) as mrr,
        coalesce(subscriptions.is_subscription_churned, false) as is_subscription_churned,
        -- email (email campaigns only)
        engagement.last_opened_at,
        engagement.last_clicked_at,
        coalesce(engagement.opens_last_90_days, 0) as opens_last_90_days,
        coalesce(engagement.clicks_last_90_days, 0) as clicks_last_90_days,
        coalesce(engagement.has_opened_email_last_30_days, false) as has_opened_email_last_30_days,
        coalesce(engagement.is_unsubscribed, false) as is_unsubscribed,
        -- sms (sms campaigns only)
        engagement.last_sms_clicked_at,
        coalesce(engagement.sms_clicks_last_90_days, 0) as sms_clicks_last_90_days,
        coalesce(engagement.is_sms_unsubscribed, false) as is_sms_unsubscribed,
        -- service
        coalesce(service.ticket_count, 0) as ticket_count,
        service.last_csat_score,
        service.last_nps_score,
        service.review_average_score,
        coalesce(service.review_count, 0) as review_count,
        -- lifecycle, activity, value, segments and RFM (int_customer_segments_assigned)
        segments.lifecycle_stage,
        segments.purchase_status,
        segments.activity_status,
        segments.value_tier,
        segments.is_hero,
        segments.is_at_risk_hero,
        segments.is_negative_experience,
        segments.is_cart_abandoner,
        segments.primary_segment,
        segments.recency_score,
        segments.frequency_score,
        segments.monetary_score,
        segments.rfm_score,
        segments.rfm_segment,
        -- CLV and churn risk (int_customer_clv_estimated)
        clv.historical_clv,
        clv.predicted_clv,
        clv.p_alive,
        clv.churn_probability,
        clv.expected_next_order_date
    from identity_summary
    left join profiles on identity_summary.customer_key = profiles.customer_key
    left join purchases on identity_summary.customer_key = purchases.customer_key
    left join subscriptions on identity_summary.customer_key = subscriptions.customer_key
    left join engagement on identity_summary.customer_key = engagement.customer_key
    left join consents on identity_summary.customer_key = consents.customer_key
    left join service on identity_summary.customer_key = service.customer_key
    left join segments on identity_summary.customer_key = segments.customer_key
    left join clv on identity_summary.customer_key = clv.customer_key
)

select * from final
