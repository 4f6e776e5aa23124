{#- Marketing consent per customer and channel (docs/landing-contract.md "Consent"): one row per customer with
    >= 1 consent record. The NEWEST record across systems decides, per channel:
      - CRM contacts and shop accounts: `has_marketing_opt_in` (email) and `has_sms_opt_in` (SMS)
        as of the record's updated_at, else created_at. A record whose SMS consent is NULL (an
        export without sms_opt_in) says nothing about SMS and is skipped for that channel;
      - the email/SMS platform: an `unsubscribed` or `complained` event on a campaign of the
        channel, or a `bounced` event on an email campaign (taken as a hard bounce: the export
        does not tell hard from soft), withdraws the channel from its occurred_at on.
    A withdrawal on any of the person's addresses withdraws the channel for the person (the
    safe reading of "that address"), until a NEWER opt-in record. On the same instant a
    withdrawal beats an opt-in. Profile records are the latest export (their older versions are
    not kept); events count up to as_of_date. -#}
with

contacts as (
    -- the same rows identity reads: clean, or quarantined only for an invalid email
    select * from {{ ref('stg_crm__contacts') }}
    where {{ is_clean_or_only_invalid_email() }}
),

shop_customers as (
    select * from {{ ref('stg_shop__customers') }}
    where {{ is_clean_or_only_invalid_email() }}
),

email_events as (
    select * from {{ ref('int_email_events_attributed') }}
),

profile_records as (
    select
        {{ customer_key_for([('crm_contact_id', 'contacts.crm_contact_id')]) }} as customer_key,
        'crm' as consent_source,
        coalesce(contacts.updated_at, contacts.created_at) as consent_at,
        contacts.has_marketing_opt_in,
        contacts.has_sms_opt_in
    from contacts

    union all

    select
        {{ customer_key_for([('shop_customer_id', 'shop_customers.shop_customer_id')]) }}
            as customer_key,
        'shop' as consent_source,
        coalesce(shop_customers.updated_at, shop_customers.created_at) as consent_at,
        shop_customers.has_marketing_opt_in,
        shop_customers.has_sms_opt_in
    from shop_customers
),

consent_records as (
    select
        profile_records.customer_key,
        'email' as channel,
        profile_records.consent_source,
        case when profile_records.has_marketing_opt_in then 'opted_in' else 'opted_out' end
            as consent_reason,
        profile_records.consent_at,
        profile_records.has_marketing_opt_in as is_opted_in
    from profile_records
    where profile_records.has_marketing_opt_in is not null

    union all

    select
        profile_records.customer_key,
        'sms' as channel,
        profile_records.consent_source,
        case when profile_records.has_sms_opt_in then 'opted_in' else 'opted_out' end
            as consent_reason,
        profile_records.consent_at,
        profile_records.has_sms_opt_in as is_opted_in
    from profile_records
    where profile_records.has_sms_opt_in is not null

    union all

    select
        email_events.customer_key,
        email_events.channel,
        'email_platform' as consent_source,
        email_events.event_type as consent_reason,
        email_events.occurred_at as consent_at,
        false as is_opted_in
    from email_events
    where
        email_events.event_type in ('unsubscribed', 'complained')
        or (email_events.event_type = 'bounced' and email_events.channel = 'email')
),

ranked as (
    select
        consent_records.*,
        row_number() over (
            partition by consent_records.customer_key, consent_records.channel
            order by
                consent_records.consent_at desc nulls last,
                consent_records.is_opted_in asc,
                consent_records.consent_source asc,
                consent_records.consent_reason asc
        ) as recency_rank
    from consent_records
    where consent_records.customer_key is not null
),

newest as (
    select * from ranked
    where recency_rank = 1
),

customers as (
    select distinct newest.customer_key from newest
),

final as (
    -- column order is the documented layout, not ST06's
    select  -- noqa: ST06
        customers.customer_key,
        -- email
        coalesce(email_consent.is_opted_in, false) as can_email,
        email_consent.consent_source as email_consent_source,
        email_consent.consent_reason as email_consent_reason,
        email_consent.consent_at as email_consent_at,
        -- sms
        coalesce(sms_consent.is_opted_in, false) as can_sms,
        sms_consent.consent_source as sms_consent_source,
        sms_consent.consent_reason as sms_consent_reason,
        sms_consent.consent_at as sms_consent_at
    from customers
    left join newest as email_consent
        on customers.customer_key = email_consent.customer_key and email_consent.channel = 'email'
    left join newest as sms_consent
        on customers.customer_key = sms_consent.customer_key and sms_consent.channel = 'sms'
)

select * from final
