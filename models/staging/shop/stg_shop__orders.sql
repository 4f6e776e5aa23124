{{
    config(
        materialized=keyed_incremental_materialization(),
        unique_key='order_id',
        incremental_strategy='delete+insert',
        on_schema_change='fail',
    )
}}
with

source as (
    select * from {{ source('shop', 'orders') }}
    {{ only_new_loads() }}
),

renamed as (
    select
        -- ids
        {{ clean_text('order_id') }} as order_id,
        {{ clean_text('shop_customer_id') }} as shop_customer_id,
        {{ clean_text('subscription_id') }} as subscription_id,
        -- emails
        {{ normalize_email('email') }} as email,
        -- attributes
        {{ clean_code('financial_status') }} as financial_status,
        {{ clean_code('source_channel') }} as source_channel,
        {{ clean_text('utm_source') }} as utm_source,
        {{ clean_text('utm_campaign') }} as utm_campaign,
        -- money
        {{ clean_iso_code('currency') }} as currency,
        {{ parse_money('subtotal') }} as subtotal,
        {{ parse_money('discount_total') }} as discount_total,
        {{ parse_money('shipping_total') }} as shipping_total,
        {{ parse_money('tax_total') }} as tax_total,
        {{ parse_money('total') }} as total,
        -- timestamps
        {{ parse_timestamp_utc('ordered_at') }} as ordered_at,
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
            ("order_id is null", 'missing key'),
            ("not is_valid_email", invalid_email_reason()),
            ("financial_status not in ('paid', 'partially_refunded', 'refunded', 'pending', 'voided')", 'financial_status not an accepted value'),
            ("source_channel not in ('web', 'app', 'pos', 'subscription')", 'source_channel not an accepted value'),
            ("not " ~ is_known_currency('currency'), 'unknown currency'),
            (is_known_currency('currency') ~ " and not " ~ has_currency_rate('currency', 'ordered_at'), no_currency_rate_reason()),
            ("subtotal < 0", 'negative subtotal'),
            ("discount_total < 0", 'negative discount_total'),
            ("shipping_total < 0", 'negative shipping_total'),
            ("tax_total < 0", 'negative tax_total'),
            ("total < 0", 'negative total'),
            ("discount_total > subtotal", 'discount_total larger than subtotal'),
            ("ordered_at > " ~ build_started_at(), 'ordered_at in the future'),
            ("cancelled_at > " ~ build_started_at(), 'cancelled_at in the future'),
            ("updated_at > " ~ build_started_at(), 'updated_at in the future'),
            (is_any_text_too_long(['order_id', 'shop_customer_id', 'subscription_id', 'email', 'utm_source', 'utm_campaign']), text_too_long_reason()),
        ]) }} as quarantine_reason
    from validated
),

quarantined as (
    select
        flagged.*,
        flagged.quarantine_reason is not null as is_quarantined
    from flagged
),

{% if is_incremental() %}
candidates as (
    select * from quarantined
    union all
    -- the stored version of every key that arrived again: a newer version may replace it,
    -- an older one arriving late must not
    select * from {{ this }} as stored
    where stored.order_id in (select quarantined.order_id from quarantined)
),
{% else %}
candidates as (
    select * from quarantined
),
{% endif %}

-- latest updated_at (NULLs last), then later load, then later line (docs/landing-contract.md)
latest as (
    {{ latest_version('candidates', ['order_id'], 'updated_at') }}
),

final as (
    select * from latest
    -- keys whose stored version still wins are left as they are
    {{ only_new_loads() }}
)

select * from final
