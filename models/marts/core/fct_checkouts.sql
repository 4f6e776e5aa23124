{#- The published fact: every row and column of int_checkouts_attributed (its rules and their
    documentation live there, where the per-customer models of intermediate/customers read it). -#}
with

checkouts as (
    select * from {{ ref('int_checkouts_attributed') }}
)

select * from checkouts
