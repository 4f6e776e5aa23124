{#- docs/kpis.md, customer_segments: one row per customer_key (every resolved person), as of
    as_of_date. The rules live in int_customer_segments_assigned (dim_customers and the segment
    history read the same model). -#}
with

segments as (
    select * from {{ ref('int_customer_segments_assigned') }}
)

select * from segments
