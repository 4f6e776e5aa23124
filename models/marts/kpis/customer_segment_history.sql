{#- Segment history: each customer's lifecycle stage, activity, value tier, segment flags and
    P(alive) as of each as_of_date a run was made for, one row per as_of_date x customer_key.
    Every run appends its as_of_date; running the same as_of_date again replaces that date's rows
    (incremental, delete+insert on as_of_date), so a run is idempotent. Past dates are backfilled
    by running dbt once per date (docs in _kpis__models.yml). -#}
{{ config(
    materialized='incremental',
    incremental_strategy=dated_incremental_strategy(),
    partition_by=dated_partition_by('as_of_date'),
    unique_key='as_of_date',
    on_schema_change='append_new_columns',
) }}

with

as_of as (
    select * from {{ ref('int_as_of_date') }}
),

segments as (
    select * from {{ ref('int_customer_segments_assigned') }}
),

clv as (
    select * from {{ ref('int_customer_clv_estimated') }}
),

final as (
    select
        as_of.as_of_date,
        segments.customer_key,
        segments.lifecycle_stage,
        segments.purchase_status,
        segments.activity_status,
        segments.value_tier,
        segments.rfm_segment,
        segments.primary_segment,
        segments.is_hero,
        segments.is_at_risk_hero,
        segments.is_negative_experience,
        segments.is_cart_abandoner,
        segments.has_active_subscription,
        clv.p_alive,
        {{ build_started_at() }} as recorded_at
    from segments
    cross join as_of
    left join clv on segments.customer_key = clv.customer_key
)

select * from final
