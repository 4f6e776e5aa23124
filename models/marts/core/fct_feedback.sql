{#- The published fact: every row and column of int_feedback_attributed (its rules and their
    documentation live there, where the per-customer models of intermediate/customers read it). -#}
with

feedback as (
    select * from {{ ref('int_feedback_attributed') }}
)

select * from feedback
