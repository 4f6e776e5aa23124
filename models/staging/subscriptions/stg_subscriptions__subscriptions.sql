with

source as (
    select * from {{ source('subscriptions', 'subscriptions') }}
),

renamed as (
    select
        -- ids
        {{ clean_text('subscription_id') }} as subscription_id,
        {{ clean_text('billing_customer_id') }} as billing_customer_id,
        -- emails
        {{ normalize_email('email') }} as email,
        -- attributes
        {{ clean_text('plan_name') }} as plan_name,
        {{ clean_code('billing_interval') }} as billing_interval,
        {{ clean_code('status') }} as status,
        {{ clean_text('cancel_reason') }} as cancel_reason,
        -- money
        {{ parse_money('price') }} as price,
        {{ clean_iso_code('currency') }} as currency,
        -- timestamps
        {{ parse_timestamp_utc('started_at') }} as started_at,
        {{ parse_timestamp_utc('cancelled_at') }} as cancelled_at,
        {{ parse_timestamp_utc('updated_at') }} as updated_at,
        -- load metadata
        _load_id,
        _file_name,
        _line_number,
        _loaded_at
    from source
),

validated as (
    select
        renamed.*,
        {{ is_valid_email('email') }} as is_valid_email
    from renamed
),

flagged as (
    select
        validated.*,
        {{ quarantine_reason([
            ("subscription_id is null", 'missing key'),
            ("not is_valid_email", invalid_email_reason()),
            ("billing_interval not in ('week', 'month', 'year')", 'billing_interval not an accepted value'),
            ("status not in ('active', 'paused', 'cancelled', 'expired')", 'status not an accepted value'),
            ("price < 0", 'negative price'),
            ("not " ~ is_known_currency('currency'), 'unknown currency'),
            ("started_at > " ~ build_started_at(), 'started_at in the future'),
            ("cancelled_at > " ~ build_started_at(), 'cancelled_at in the future'),
            ("updated_at > " ~ build_started_at(), 'updated_at in the future'),
            (is_any_text_too_long(['subscription_id', 'billing_customer_id', 'email', 'plan_name', 'cancel_reason']), text_too_long_reason()),
        ]) }} as quarantine_reason
    from validated
),

quarantined as (
    select
        flagged.*,
        flagged.quarantine_reason is not null as is_quarantined
    from flagged
),

-- latest updated_at (NULLs last), then later load, then later line (docs/landing-contract.md)
latest as (
    {{ latest_version('quarantined', ['subscription_id'], 'updated_at') }}
)

select * from latest
