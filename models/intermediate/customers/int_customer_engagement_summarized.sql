{#- Marketing engagement per customer as of as_of_date, EMAIL AND SMS KEPT APART (the campaign's
    channel): one row per customer with >= 1 email/SMS event or checkout. Windows end on
    as_of_date: "last N days" = event date > as_of_date - N days. -#}
with

email_events as (
    select * from {{ ref('int_email_events_attributed') }}
),

checkouts as (
    select * from {{ ref('int_checkouts_attributed') }}
),

event_summary as (
    select
        email_events.customer_key,
        -- email
        max(
            case
                when email_events.channel = 'email' and email_events.event_type = 'opened' then email_events.occurred_at
            end
        )
            as last_opened_at,
        max(
            case
                when
                    email_events.channel = 'email' and email_events.event_type = 'clicked'
                    then email_events.occurred_at
            end
        )
            as last_clicked_at,
        count(
            case
                when
                    email_events.channel = 'email' and email_events.event_type = 'opened'
                    and {{ dbt.datediff('email_events.event_date', as_of_date(), 'day') }} < 90
                    then 1
            end
        ) as opens_last_90_days,
        count(
            case
                when
                    email_events.channel = 'email' and email_events.event_type = 'clicked'
                    and {{ dbt.datediff('email_events.event_date', as_of_date(), 'day') }} < 90
                    then 1
            end
        ) as clicks_last_90_days,
        coalesce(bool_or(
            email_events.channel = 'email' and email_events.event_type = 'opened'
            and {{ dbt.datediff('email_events.event_date', as_of_date(), 'day') }} < 30
        ), false) as has_opened_email_last_30_days,
        coalesce(bool_or(email_events.channel = 'email' and email_events.event_type = 'unsubscribed'), false)
            as is_unsubscribed,
        -- sms (an SMS has no open; a click is a tapped link)
        max(
            case
                when email_events.channel = 'sms' and email_events.event_type = 'clicked' then email_events.occurred_at
            end
        )
            as last_sms_clicked_at,
        count(
            case
                when
                    email_events.channel = 'sms' and email_events.event_type = 'clicked'
                    and {{ dbt.datediff('email_events.event_date', as_of_date(), 'day') }} < 90
                    then 1
            end
        ) as sms_clicks_last_90_days,
        coalesce(bool_or(email_events.channel = 'sms' and email_events.event_type = 'unsubscribed'), false)
            as is_sms_unsubscribed,
        -- lifecycle: opened or clicked anything
        coalesce(bool_or(email_events.event_type in ('opened', 'clicked')), false) as has_engaged_with_campaigns
    from email_events
    where email_events.customer_key is not null
    group by email_events.customer_key
),

checkout_summary as (
    select
        checkouts.customer_key,
        max(case when checkouts.is_abandoned then checkouts.created_at end) as last_abandoned_checkout_at
    from checkouts
    where
        checkouts.customer_key is not null
        and cast(checkouts.created_at as date) <= {{ as_of_date() }}
    group by checkouts.customer_key
),

final as (
    -- column order is the documented layout, not ST06's
    select  -- noqa: ST06
        coalesce(event_summary.customer_key, checkout_summary.customer_key) as customer_key,
        event_summary.last_opened_at,
        event_summary.last_clicked_at,
        coalesce(event_summary.opens_last_90_days, 0) as opens_last_90_days,
        coalesce(event_summary.clicks_last_90_days, 0) as clicks_last_90_days,
        coalesce(event_summary.has_opened_email_last_30_days, false) as has_opened_email_last_30_days,
        coalesce(event_summary.is_unsubscribed, false) as is_unsubscribed,
        event_summary.last_sms_clicked_at,
        coalesce(event_summary.sms_clicks_last_90_days, 0) as sms_clicks_last_90_days,
        coalesce(event_summary.is_sms_unsubscribed, false) as is_sms_unsubscribed,
        coalesce(event_summary.has_engaged_with_campaigns, false) as has_engaged_with_campaigns,
        checkout_summary.customer_key is not null as has_started_checkout,
        checkout_summary.last_abandoned_checkout_at
    from event_summary
    full outer join checkout_summary on event_summary.customer_key = checkout_summary.customer_key
)

select * from final
