{#- The links of the identity graph: one row per pair of identifiers a source record ties
    together (an email and the contact, shop customer or billing customer it belongs to), with
    how they are linked and since when. Invalid emails never appear here (docs/landing-contract.md). -#}

with

observations as (
    select * from {{ ref('int_identity_observations') }}
),

edges as (
    select
        identifier_type,
        identifier_value,
        linked_identifier_type,
        linked_identifier_value,
        source_table as link_source,
        min(first_observed_at) as first_linked_at,
        sum(record_count) as link_count
    from observations
    where linked_identifier_value is not null
    group by
        identifier_type,
        identifier_value,
        linked_identifier_type,
        linked_identifier_value,
        source_table
)

select * from edges
