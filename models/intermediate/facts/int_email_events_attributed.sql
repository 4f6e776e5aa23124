{#- One row per email/SMS event up to as_of_date whose campaign exists, with the recipient's
    customer_key (macro customer_key_for: by email) and the campaign's channel (email or sms; a
    campaign without a channel counts as email). Published as fct_email_events. -#}

with

email_events as (
    select * from {{ ref('int_email_events_referenced') }}
    where is_reference_valid
),

campaigns as (
    select * from {{ ref('stg_email__campaigns') }}
),

final as (
    select
        -- ids
        email_events.event_id,
        email_events.campaign_id,
        {{ customer_key_for([('email', 'email_events.email')]) }} as customer_key,
        email_events.email,
        -- attributes
        email_events.event_type,
        coalesce(campaigns.channel, 'email') as channel,
        -- timestamps
        email_events.occurred_at,
        cast(email_events.occurred_at as date) as event_date
    from email_events
    left join campaigns on email_events.campaign_id = campaigns.campaign_id
    where cast(email_events.occurred_at as date) <= {{ as_of_date() }}
)

select * from final
