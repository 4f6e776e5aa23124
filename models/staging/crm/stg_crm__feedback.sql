with

source as (
    select * from {{ source('crm', 'feedback') }}
),

renamed as (
    select
        -- ids
        {{ clean_text('feedback_id') }} as feedback_id,
        {{ clean_text('contact_id') }} as crm_contact_id,
        -- emails
        {{ normalize_email('email') }} as email,
        -- attributes
        {{ clean_code('feedback_type') }} as feedback_type,
        {{ parse_integer('score') }} as score,
        {{ clean_text('comment') }} as comment,
        -- timestamps
        {{ parse_timestamp_utc('submitted_at') }} as submitted_at,
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
            ("feedback_id is null", 'missing key'),
            ("feedback_type not in ('nps', 'review')", 'feedback_type not an accepted value'),
            ("feedback_type = 'nps' and score not between 0 and 10", 'nps score outside 0-10'),
            ("feedback_type = 'review' and score not between 1 and 5", 'review score outside 1-5'),
            ("submitted_at > " ~ build_started_at(), 'submitted_at in the future'),
            (is_any_text_too_long(['feedback_id', 'crm_contact_id', 'email', 'comment']), text_too_long_reason()),
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
    {{ latest_version('quarantined', ['feedback_id']) }}
)

select * from latest
