{#- The published fact: every row and column of int_subscriptions_attributed (its rules and their
    documentation live there, where the per-customer models of intermediate/customers read it). -#}
with

subscriptions as (
    select * from {{ ref('int_subscriptions_attributed') }}
)

select * from subscriptions
