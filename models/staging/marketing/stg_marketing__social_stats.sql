with

source as (
    select * from {{ source('marketing', 'social_stats') }}
),

renamed as (
    select
        -- ids
        {{ parse_date('stat_date') }} as stat_date,
        {{ clean_text('platform') }} as platform,
        -- counts
        {{ parse_integer('followers') }} as followers,
        {{ parse_integer('likes') }} as likes,
        {{ parse_integer('reactions') }} as reactions,
        {{ parse_integer('comments') }} as comments,
        {{ parse_integer('shares') }} as shares,
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
            ("stat_date is null or platform is null", 'missing key'),
            ("followers < 0", 'negative followers'),
            ("likes < 0", 'negative likes'),
            ("reactions < 0", 'negative reactions'),
            ("comments < 0", 'negative comments'),
            ("shares < 0", 'negative shares'),
            ("stat_date > cast(" ~ build_started_at() ~ " as date)", 'stat_date in the future'),
            (is_any_text_too_long(['platform']), text_too_long_reason()),
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
    {{ latest_version('quarantined', ['stat_date', 'platform']) }}
)

select * from latest
