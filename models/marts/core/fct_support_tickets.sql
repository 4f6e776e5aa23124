{#- The published fact: every row and column of int_support_tickets_attributed (its rules and their
    documentation live there, where the per-customer models of intermediate/customers read it). -#}
with

support_tickets as (
    select * from {{ ref('int_support_tickets_attributed') }}
)

select * from support_tickets
