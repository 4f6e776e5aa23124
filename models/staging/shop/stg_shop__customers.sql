with

source as (
    select * from {{ source('shop', 'customers') }}
),

renamed as (
    select
        -- ids
        {{ clean_text('shop_customer_id') }} as shop_customer_id,
        -- emails
        {{ normalize_email('email') }} as email,
        -- attributes
        {{ clean_text('first_name') }} as first_name,
        {{ clean_text('last_name') }} as last_name,
        {{ clean_text('phone') }} as phone,
        {{ clean_iso_code('country_code') }} as country_code,
        -- flags
        coalesce({{ parse_boolean('accepts_marketing') }}, false) as has_marketing_opt_in,
        -- NULL when the export has no sms_opt_in (an optional column added later)
        {{ parse_boolean('sms_opt_in') }} as has_sms_opt_in,
        -- timestamps
        {{ parse_timestamp_utc('created_at') }} as created_at,
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
            ("shop_customer_id is null", 'missing key'),
            ("not is_valid_email", invalid_email_reason()),
            ("created_at > " ~ build_started_at(), 'created_at in the future'),
            ("updated_at > " ~ build_started_at(), 'updated_at in the future'),
            (is_any_text_too_long(['shop_customer_id', 'email', 'first_name', 'last_name', 'phone']), text_too_long_reason()),
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
    {{ latest_version('quarantined', ['shop_customer_id'], 'updated_at') }}
)

select * from latest
