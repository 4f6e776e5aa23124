{#- One row per email/SMS event up to as_of_date whose campaign exists, with the recipient's
    customer_key (by email). -#}

with

email_events as (
    select * from {{ ref('int_email_events_referenced') }}
    where is_reference_valid
),

identities as (
    select * from {{ ref('int_identities_resolved') }}
    where identifier_type = 'email'
),

final as (
    select
        -- ids
        email_events.event_id,
        email_events.campaign_id,
        identities.customer_key,
        email_events.email,
        -- attributes
        email_events.event_type,
        -- timestamps
        email_events.occurred_at,
        cast(email_events.occurred_at as date) as event_date
    from email_events
    left join identities on email_events.email = identities.identifier_value
    where cast(email_events.occurred_at as date) <= {{ as_of_date() }}
)

select * from final
