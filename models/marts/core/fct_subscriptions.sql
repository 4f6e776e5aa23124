{#- One row per subscription started up to as_of_date. monthly_price: the price normalised to a
    month (KPIS.md: week × 52/12, month × 1, year / 12) in the reporting currency at the rate of
    the as_of_date month. is_active: active on as_of_date. -#}

with

subscriptions as (
    select * from {{ ref('stg_subscriptions__subscriptions') }}
    where not is_quarantined
),

identities as (
    select * from {{ ref('int_identities_resolved') }}
),

as_of as (
    select * from {{ ref('int_as_of_date') }}
),

final as (
    select
        -- ids
        subscriptions.subscription_id,
        coalesce(by_billing.customer_key, by_email.customer_key) as customer_key,
        subscriptions.billing_customer_id,
        subscriptions.email,
        -- attributes
        subscriptions.plan_name,
        subscriptions.billing_interval,
        subscriptions.status,
        subscriptions.cancel_reason,
        -- money
        subscriptions.currency,
        subscriptions.price,
        {{ to_reporting_currency(
            "subscriptions.price * case subscriptions.billing_interval"
                ~ " when 'week' then cast(52 as decimal(18, 4)) / 12"
                ~ " when 'month' then 1"
                ~ " when 'year' then cast(1 as decimal(18, 4)) / 12 end",
            'subscriptions.currency',
            'as_of.as_of_date',
        ) }} as monthly_price,
        -- timestamps
        subscriptions.started_at,
        subscriptions.cancelled_at,
        -- flags: status is today's; a subscription cancelled after as_of_date was active then
        coalesce(
            (subscriptions.cancelled_at is null or cast(subscriptions.cancelled_at as date) > as_of.as_of_date)
            and (
                subscriptions.status = 'active'
                or (subscriptions.status = 'cancelled' and cast(subscriptions.cancelled_at as date) > as_of.as_of_date)
            ),
            false
        ) as is_active
    from subscriptions
    cross join as_of
    left join identities as by_billing
        on
            by_billing.identifier_type = 'billing_customer_id'
            and subscriptions.billing_customer_id = by_billing.identifier_value
    left join identities as by_email
        on
            by_email.identifier_type = 'email'
            and subscriptions.email = by_email.identifier_value
    where cast(subscriptions.started_at as date) <= as_of.as_of_date
)

select * from final
