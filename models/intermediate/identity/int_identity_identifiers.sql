{#- The nodes of the identity graph: one row per identifier, with when it was first seen. The
    anchor of a person (whose hash is the customer_key) is the identifier seen first, ties broken
    by type (crm_contact_id, shop_customer_id, billing_customer_id, email) and value, so the rank
    below is a total order that does not depend on load order or row order. -#}

with

observations as (
    select * from {{ ref('int_identity_observations') }}
),

identifiers as (
    select
        identifier_type,
        identifier_value,
        min(first_observed_at) as first_seen_at,
        sum(record_count) as observation_count
    from observations
    group by identifier_type, identifier_value
),

ranked as (
    select
        identifiers.identifier_type,
        identifiers.identifier_value,
        identifiers.first_seen_at,
        identifiers.observation_count,
        row_number() over (
            order by
                identifiers.first_seen_at asc nulls last,
                case identifiers.identifier_type
                    when 'crm_contact_id' then 1
                    when 'shop_customer_id' then 2
                    when 'billing_customer_id' then 3
                    else 4
                end asc,
                identifiers.identifier_value asc
        ) as identifier_rank
    from identifiers
)

select * from ranked
