{#- One row per NPS answer or review submitted up to as_of_date. customer_key as for tickets: the
    CRM contact's when known, else the email's, else NULL. -#}

with

feedback as (
    select * from {{ ref('stg_crm__feedback') }}
    where not is_quarantined
),

identities as (
    select * from {{ ref('int_identities_resolved') }}
),

final as (
    select
        -- ids
        feedback.feedback_id,
        feedback.crm_contact_id,
        feedback.email,
        -- attributes
        feedback.feedback_type,
        feedback.score,
        feedback.comment,
        -- timestamps
        feedback.submitted_at,
        cast(feedback.submitted_at as date) as submitted_date,
        coalesce(by_contact.customer_key, by_email.customer_key) as customer_key,
        -- flags
        by_contact.customer_key is not null as has_known_crm_contact
    from feedback
    left join identities as by_contact
        on
            by_contact.identifier_type = 'crm_contact_id'
            and feedback.crm_contact_id = by_contact.identifier_value
    left join identities as by_email
        on
            by_email.identifier_type = 'email'
            and feedback.email = by_email.identifier_value
            and feedback.is_valid_email
    where cast(feedback.submitted_at as date) <= {{ as_of_date() }}
)

select * from final
