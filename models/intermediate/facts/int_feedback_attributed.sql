{#- One row per NPS answer or review submitted up to as_of_date. customer_key as for tickets: the
    CRM contact's when known, else the email's, else NULL. Published as fct_feedback. -#}

with

feedback as (
    select * from {{ ref('stg_crm__feedback') }}
    where not is_quarantined
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
        {{ customer_key_for([
            ('crm_contact_id', 'feedback.crm_contact_id'),
            ('email', 'case when feedback.is_valid_email then feedback.email end'),
        ]) }} as customer_key,
        -- flags
        {{ customer_key_for([('crm_contact_id', 'feedback.crm_contact_id')]) }} is not null
            as has_known_crm_contact
    from feedback
    where cast(feedback.submitted_at as date) <= {{ as_of_date() }}
)

select * from final
