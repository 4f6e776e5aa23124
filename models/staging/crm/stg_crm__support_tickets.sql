with

source as (
    select * from {{ source('crm', 'support_tickets') }}
),

renamed as (
    select
        -- ids
        {{ clean_text('ticket_id') }} as ticket_id,
        {{ clean_text('contact_id') }} as crm_contact_id,
        -- emails
        {{ normalize_email('email') }} as email,
        -- attributes
        {{ clean_code('channel') }} as channel,
        {{ clean_text('topic') }} as topic,
        {{ clean_code('status') }} as status,
        {{ parse_integer('csat_score') }} as csat_score,
        -- timestamps
        {{ parse_timestamp_utc('opened_at') }} as opened_at,
        {{ parse_timestamp_utc('resolved_at') }} as resolved_at,
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
            ("ticket_id is null", 'missing key'),
            ("channel not in ('email', 'chat', 'phone', 'social')", 'channel not an accepted value'),
            ("status not in ('open', 'pending', 'resolved', 'closed')", 'status not an accepted value'),
            ("csat_score not between 1 and 5", 'csat_score outside 1-5'),
            ("opened_at > " ~ build_started_at(), 'opened_at in the future'),
            ("resolved_at > " ~ build_started_at(), 'resolved_at in the future'),
            (is_any_text_too_long(['ticket_id', 'crm_contact_id', 'email', 'topic']), text_too_long_reason()),
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
    {{ latest_version('quarantined', ['ticket_id']) }}
)

select * from latest
