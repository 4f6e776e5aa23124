with

source as (
    select * from {{ source('shop', 'checkouts') }}
),

renamed as (
    select
        -- ids
        {{ clean_text('checkout_id') }} as checkout_id,
        {{ clean_text('shop_customer_id') }} as shop_customer_id,
        {{ clean_text('completed_order_id') }} as completed_order_id,
        -- emails
        {{ normalize_email('email') }} as email,
        -- money
        {{ parse_money('cart_total') }} as cart_total,
        {{ clean_iso_code('currency') }} as currency,
        -- timestamps
        {{ parse_timestamp_utc('created_at') }} as created_at,
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
            ("checkout_id is null", 'missing key'),
            ("cart_total < 0", 'negative cart_total'),
            ("cart_total is not null and currency is null", 'missing currency'),
            ("not " ~ is_known_currency('currency'), 'unknown currency'),
            (is_known_currency('currency') ~ " and not " ~ has_currency_rate('currency', 'created_at'), no_currency_rate_reason()),
            ("created_at > " ~ build_started_at(), 'created_at in the future'),
            (is_any_text_too_long(['checkout_id', 'shop_customer_id', 'completed_order_id', 'email']), text_too_long_reason()),
        ]) }} as quarantine_reason
    from validated
),

quarantined as (
    select
        flagged.*,
        flagged.quarantine_reason is not null as is_quarantined
    from flagged
),

-- no version column: later load, then later line (docs/landing-contract.md)
latest as (
    {{ latest_version('quarantined', ['checkout_id']) }}
)

select * from latest
