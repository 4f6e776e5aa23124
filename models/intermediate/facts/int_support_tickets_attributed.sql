{#- One row per support ticket opened up to as_of_date. customer_key: the CRM contact's when the
    contact is known, else the email's (an unknown contact_id is not quarantined), else NULL
    (macro customer_key_for). Published as fct_support_tickets. -#}

with

support_tickets as (
    select * from {{ ref('stg_crm__support_tickets') }}
    where not is_quarantined
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
        {{ customer_key_for([
            ('crm_contact_id', 'support_tickets.crm_contact_id'),
            ('email', 'case when support_tickets.is_valid_email then support_tickets.email end'),
        ]) }} as customer_key,
        -- flags
        {{ customer_key_for([('crm_contact_id', 'support_tickets.crm_contact_id')]) }} is not null
            as has_known_crm_contact
    from support_tickets
    where cast(support_tickets.opened_at as date) <= {{ as_of_date() }}
)

select * from final
