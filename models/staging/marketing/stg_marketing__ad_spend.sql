with

source as (
    select * from {{ source('marketing', 'ad_spend') }}
),

renamed as (
    select
        -- ids
        {{ parse_date('spend_date') }} as spend_date,
        {{ clean_text('channel') }} as channel,
        {{ clean_text('campaign') }} as campaign,
        -- money
        {{ parse_money('spend') }} as spend,
        {{ clean_iso_code('currency') }} as currency,
        -- counts
        {{ parse_integer('impressions') }} as impressions,
        {{ parse_integer('clicks') }} as clicks,
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
            ("spend_date is null or channel is null", 'missing key'),
            ("spend < 0", 'negative spend'),
            ("impressions < 0", 'negative impressions'),
            ("clicks < 0", 'negative clicks'),
            ("not " ~ is_known_currency('currency'), 'unknown currency'),
            (is_known_currency('currency') ~ " and not " ~ has_currency_rate('currency', 'spend_date'), no_currency_rate_reason()),
            ("spend_date > cast(" ~ build_started_at() ~ " as date)", 'spend_date in the future'),
            (is_any_text_too_long(['channel', 'campaign']), text_too_long_reason()),
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
    {{ latest_version('quarantined', ['spend_date', 'channel', 'campaign']) }}
)

select * from latest
