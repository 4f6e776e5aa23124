with

source as (
    select * from {{ source('shop', 'refunds') }}
),

renamed as (
    select
        -- ids
        {{ clean_text('refund_id') }} as refund_id,
        {{ clean_text('order_id') }} as order_id,
        -- attributes
        {{ clean_text('reason') }} as reason,
        -- money
        {{ parse_money('amount') }} as amount,
        {{ clean_iso_code('currency') }} as currency,
        -- timestamps
        {{ parse_timestamp_utc('refunded_at') }} as refunded_at,
        -- load metadata
        _load_id,
        _file_name,
        _line_number,
        _loaded_at
    from source
),

flagged as (
    select
        renamed.*,
        {{ quarantine_reason([
            ("refund_id is null", 'missing key'),
            ("amount < 0", 'negative amount'),
            ("not " ~ is_known_currency('currency'), 'unknown currency'),
            ("refunded_at > " ~ build_started_at(), 'refunded_at in the future'),
            (is_any_text_too_long(['refund_id', 'order_id', 'reason']), text_too_long_reason()),
        ]) }} as quarantine_reason
    from renamed
),

quarantined as (
    select
        flagged.*,
        flagged.quarantine_reason is not null as is_quarantined
    from flagged
),

-- no version column: later load, then later line (docs/landing-contract.md)
latest as (
    {{ latest_version('quarantined', ['refund_id']) }}
)

select * from latest
