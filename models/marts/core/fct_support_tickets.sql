{#- One row per support ticket opened up to as_of_date. customer_key: the CRM contact's when the
    contact is known, else the email's (an unknown contact_id is not quarantined), else NULL. -#}

with

support_tickets as (
    select * from {{ ref('stg_crm__support_tickets') }}
    where not is_quarantined
),

identities as (
    select * from {{ ref('int_identities_resolved') }}
),

final as (
    select
        -- ids
        support_tickets.ticket_id,
        support_tickets.crm_contact_id,
        support_tickets.email,
        -- attributes
        support_tickets.channel,
        support_tickets.topic,
        support_tickets.status,
        support_tickets.csat_score,
        -- timestamps
        support_tickets.opened_at,
        support_tickets.resolved_at,
        coalesce(by_contact.customer_key, by_email.customer_key) as customer_key,
        -- flags
        by_contact.customer_key is not null as has_known_crm_contact
    from support_tickets
    left join identities as by_contact
        on
            by_contact.identifier_type = 'crm_contact_id'
            and support_tickets.crm_contact_id = by_contact.identifier_value
    left join identities as by_email
        on
            by_email.identifier_type = 'email'
            and support_tickets.email = by_email.identifier_value
            and support_tickets.is_valid_email
    where cast(support_tickets.opened_at as date) <= {{ as_of_date() }}
)

select * from final
