{#- Profile per resolved person: one row per customer_key of int_identities_resolved, with the
    primary email, name and country of the newest profile record (CRM contacts before shop
    accounts) and the acquisition channel (docs/kpis.md). Read by dim_customers and kpi_by_channel. -#}
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

purchases as (
    select * from {{ ref('int_customer_purchases_summarized') }}
),

channel_mapping as (
    select * from {{ ref('channel_mapping') }}
),

customers as (
    select distinct identities.customer_key
    from identities
    where identities.customer_key is not null
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
        -- newest record of either system, for the marketing opt-in
        row_number() over (
            partition by profile_records.customer_key
            order by profile_records.changed_at desc, profile_records.source_priority asc
        ) as newest_rank,
        -- docs/kpis.md acquisition channel fallback: the first CRM contact's acquisition_channel
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
        profile_ranked.customer_key,
        max(case when profile_ranked.recency_rank = 1 then profile_ranked.email end) as profile_email,
        max(case when profile_ranked.recency_rank = 1 then profile_ranked.first_name end) as first_name,
        max(case when profile_ranked.recency_rank = 1 then profile_ranked.last_name end) as last_name,
        max(case when profile_ranked.recency_rank = 1 then profile_ranked.country_code end) as country_code,
        max(case when profile_ranked.acquisition_rank = 1 then profile_ranked.acquisition_channel end)
            as crm_acquisition_channel,
        coalesce(bool_or(profile_ranked.newest_rank = 1 and profile_ranked.has_marketing_opt_in), false)
            as has_marketing_opt_in
    from profile_ranked
    group by profile_ranked.customer_key
),

-- first email seen, for people known only by email
first_email as (
    select
        identities.customer_key,
        identities.identifier_value as email,
        row_number() over (
            partition by identities.customer_key
            order by identities.first_seen_at asc, identities.identifier_value asc
        ) as email_rank
    from identities
    where identities.identifier_type = 'email'
),

final as (
    -- column order is the documented layout, not ST06's
    select  -- noqa: ST06
        customers.customer_key,
        coalesce(profile_summary.profile_email, first_email.email) as primary_email,
        profile_summary.first_name,
        profile_summary.last_name,
        profile_summary.country_code,
        -- docs/kpis.md: first valid order's utm_source, else the CRM acquisition_channel, mapped
        coalesce(channel_mapping.channel, 'unknown') as acquisition_channel,
        coalesce(profile_summary.has_marketing_opt_in, false) as has_marketing_opt_in
    from customers
    left join profile_summary on customers.customer_key = profile_summary.customer_key
    left join first_email
        on
            customers.customer_key = first_email.customer_key
            and first_email.email_rank = 1
    left join purchases on customers.customer_key = purchases.customer_key
    left join channel_mapping
        on
            channel_mapping.source_value = {{ channel_source_value(
                'coalesce(' ~ channel_source_value('purchases.first_order_utm_source')
                ~ ', profile_summary.crm_acquisition_channel)'
            ) }}
)

select * from final
