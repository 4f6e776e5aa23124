{#- The published fact: every row and column of int_email_events_attributed (its rules and their
    documentation live there, where the per-customer models of intermediate/customers read it). -#}
with

email_events as (
    select * from {{ ref('int_email_events_attributed') }}
)

select * from email_events
