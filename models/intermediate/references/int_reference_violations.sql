{#- Every row that breaks a cross-table reference rule, in the columns of stg_quarantine, for the
    one quarantine list (intermediate/quality/int_quarantined_rows_unioned). Tickets and feedback
    naming an unknown CRM contact are NOT here: they are attributed by their email instead. -#}

with

order_lines as (
    select * from {{ ref('int_order_lines_referenced') }}
),

refunds as (
    select * from {{ ref('int_refunds_referenced') }}
),

checkouts as (
    select * from {{ ref('int_checkouts_referenced') }}
),

email_events as (
    select * from {{ ref('int_email_events_referenced') }}
),

violations as (
    select
        'shop' as source,
        'order_lines' as table_name,
        order_line_id as primary_key_value,
        reference_issue as quarantine_reason,
        _load_id,
        _file_name,
        _line_number
    from order_lines
    where not is_reference_valid

    union all

    select
        'shop' as source,
        'refunds' as table_name,
        refund_id as primary_key_value,
        reference_issue as quarantine_reason,
        _load_id,
        _file_name,
        _line_number
    from refunds
    where not is_reference_valid

    union all

    select
        'shop' as source,
        'checkouts' as table_name,
        checkout_id as primary_key_value,
        reference_issue as quarantine_reason,
        _load_id,
        _file_name,
        _line_number
    from checkouts
    where not is_reference_valid

    union all

    select
        'email' as source,
        'events' as table_name,
        event_id as primary_key_value,
        reference_issue as quarantine_reason,
        _load_id,
        _file_name,
        _line_number
    from email_events
    where not is_reference_valid
)

select * from violations
