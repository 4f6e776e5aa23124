{#- The published fact: every row and column of int_orders_attributed (its rules and their
    documentation live there, where the per-customer models of intermediate/customers read it). -#}
with

orders as (
    select * from {{ ref('int_orders_attributed') }}
)

select * from orders
