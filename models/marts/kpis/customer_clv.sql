{#- docs/kpis.md, customer_clv: one row per customer with >= 1 valid order as of as_of_date. The
    formulas and the join of the predictions live in int_customer_clv_estimated (dim_customers
    reads the same model). -#}
with

clv as (
    select * from {{ ref('int_customer_clv_estimated') }}
)

select * from clv
