{#- Identity resolution (docs/landing-contract.md "Identity"): the connected components of the identity graph
    (nodes int_identity_identifiers, links int_identity_edges; links are transitive). Each
    component is one person; its customer_key is the hash of its anchor, the identifier seen
    first. The component search is macro connected_components() (DuckDB: a keyed recursive CTE,
    see the macro for its cost). -#}

with

identifiers as (
    select * from {{ ref('int_identity_identifiers') }}
),

edges as (
    select * from {{ ref('int_identity_edges') }}
),

numbered_edges as (
    select
        left_node.identifier_rank as from_node,
        right_node.identifier_rank as to_node
    from edges
    inner join identifiers as left_node
        on
            edges.identifier_type = left_node.identifier_type
            and edges.identifier_value = left_node.identifier_value
    inner join identifiers as right_node
        on
            edges.linked_identifier_type = right_node.identifier_type
            and edges.linked_identifier_value = right_node.identifier_value
),

-- used inside connected_components(), which sqlfluff cannot parse
graph_edges as (  -- noqa: ST03
    select
        from_node,
        to_node
    from numbered_edges
    union
    select
        to_node as from_node,
        from_node as to_node
    from numbered_edges
),

-- DuckDB's `using key` is not in sqlfluff's grammar yet: no lint inside the macro's SQL
components as (  -- noqa: PRS
    {{ connected_components('graph_edges') }}  -- noqa: PRS
),

labelled as (
    select
        identifiers.identifier_type,
        identifiers.identifier_value,
        identifiers.first_seen_at,
        -- an identifier without links is a person of its own
        coalesce(components.component, identifiers.identifier_rank) as component
    from identifiers
    left join components on identifiers.identifier_rank = components.node
),

anchors as (
    select
        identifier_rank as component,
        identifier_type as anchor_identifier_type,
        identifier_value as anchor_identifier_value
    from identifiers
),

resolved as (
    select
        labelled.identifier_type,
        labelled.identifier_value,
        {{ dbt.hash(dbt.concat(["anchors.anchor_identifier_type", "':'", "anchors.anchor_identifier_value"])) }}
            as customer_key,
        anchors.anchor_identifier_type,
        anchors.anchor_identifier_value,
        labelled.first_seen_at,
        count(*) over (partition by labelled.component) as customer_identifier_count
    from labelled
    inner join anchors on labelled.component = anchors.component
)

select * from resolved
