{{
    config(
        materialized=keyed_incremental_materialization(),
        unique_key='event_id',
        incremental_strategy='delete+insert',
        on_schema_change='fail',
    )
}}
with

source as (
    select * from {{ source('email', 'events') }}
    {{ only_new_loads() }}
),

renamed as (
    select
        -- ids
        {{ clean_text('event_id') }} as event_id,
        {{ clean_text('campaign_id') }} as campaign_id,
        -- emails
        {{ normalize_email('email') }} as email,
        -- attributes
        {{ clean_code('event_type') }} as event_type,
        -- timestamps
        {{ parse_timestamp_utc('occurred_at') }} as occurred_at,
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
            ("event_id is null", 'missing key'),
            ("not is_valid_email", invalid_email_reason()),
            ("event_type not in ('sent', 'delivered', 'bounced', 'opened', 'clicked', 'unsubscribed', 'complained')", 'event_type not an accepted value'),
            ("occurred_at > " ~ build_started_at(), 'occurred_at in the future'),
            (is_any_text_too_long(['event_id', 'campaign_id', 'email']), text_too_long_reason()),
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
    where stored.event_id in (select quarantined.event_id from quarantined)
),
{% else %}
candidates as (
    select * from quarantined
),
{% endif %}

-- no version column: later load, then later line (docs/landing-contract.md)
latest as (
    {{ latest_version('candidates', ['event_id']) }}
),

final as (
    select * from latest
    -- keys whose stored version still wins are left as they are
    {{ only_new_loads() }}
)

select * from final
