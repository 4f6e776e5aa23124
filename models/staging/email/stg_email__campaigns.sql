with

source as (
    select * from {{ source('email', 'campaigns') }}
),

renamed as (
    select
        -- ids
        {{ clean_text('campaign_id') }} as campaign_id,
        -- attributes
        {{ clean_text('campaign_name') }} as campaign_name,
        {{ clean_code('channel') }} as channel,
        -- money
        {{ parse_money('cost') }} as cost,
        {{ clean_iso_code('currency') }} as currency,
        -- timestamps
        {{ parse_timestamp_utc('sent_at') }} as sent_at,
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
            ("campaign_id is null", 'missing key'),
            ("channel not in ('email', 'sms')", 'channel not an accepted value'),
            ("cost < 0", 'negative cost'),
            ("cost is not null and currency is null", 'missing currency'),
            ("not " ~ is_known_currency('currency'), 'unknown currency'),
            (is_known_currency('currency') ~ " and not " ~ has_currency_rate('currency', 'sent_at'), no_currency_rate_reason()),
            ("sent_at > " ~ build_started_at(), 'sent_at in the future'),
            (is_any_text_too_long(['campaign_id', 'campaign_name']), text_too_long_reason()),
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
    {{ latest_version('quarantined', ['campaign_id']) }}
)

select * from latest
