{#- Connected components of an undirected graph, by minimum-label propagation.

    connected_components(edges)
      edges   a relation or CTE name with integer columns `from_node`, `to_node`; give every
              link in both directions.
    Returns a select of (node, component): every node that has an edge, with `component` = the
    smallest node number reachable from it. Isolated nodes are not returned (they are their own
    component). Number the nodes so that the smallest number is the node you want as the
    component's anchor (identity: the identifier seen first).

    DuckDB (>= 1.3, checked on 2.0): a recursive CTE `using key (node)` keeps ONE row per node
    and replaces it when a smaller label arrives, so each round only carries the nodes whose
    label just dropped (the frontier) and the recursion stops when no label drops. Cost: rounds
    = the longest shortest path from a component's anchor (about 6 on the generator's l tier,
    2.3 M identifiers in ~5 s); memory = one row per node. Other engines: a plain recursive CTE
    that collects every reachable (node, label) pair, correct but quadratic in component size
    (Spark 4.1+ has recursive CTEs; replace it with GraphFrames there if components grow). -#}
{% macro connected_components(edges) -%}
    {{ return(adapter.dispatch('connected_components')(edges)) }}
{%- endmacro %}

{% macro duckdb__connected_components(edges) -%}
    with recursive labels (node, component) using key (node) as (
        select
            {{ edges }}.from_node as node,
            least({{ edges }}.from_node, min({{ edges }}.to_node)) as component
        from {{ edges }}
        group by {{ edges }}.from_node

        union

        -- the frontier (labels that dropped last round) offers its label to its neighbours;
        -- a neighbour takes it only when it is smaller than the label it holds
        select
            {{ edges }}.to_node as node,
            min(labels.component) as component
        from labels
        inner join {{ edges }} on labels.node = {{ edges }}.from_node
        inner join recurring.labels as held on {{ edges }}.to_node = held.node
        group by {{ edges }}.to_node, held.component
        having min(labels.component) < held.component
    )

    select
        labels.node,
        labels.component
    from labels
{%- endmacro %}

{% macro default__connected_components(edges) -%}
    with recursive reachable (node, component) as (
        select
            {{ edges }}.from_node as node,
            {{ edges }}.from_node as component
        from {{ edges }}

        union

        select
            {{ edges }}.to_node as node,
            reachable.component
        from reachable
        inner join {{ edges }} on reachable.node = {{ edges }}.from_node
    )

    select
        reachable.node,
        min(reachable.component) as component
    from reachable
    group by reachable.node
{%- endmacro %}

{#- Spark: no recursive CTE. Minimum-label propagation iterated a fixed number of rounds
    written out as a chain of CTEs (var connected_components_rounds, default 20): each round a
    node takes the smallest label among itself and its neighbours, so after n rounds every node
    holds the smallest node within n links. Each round reads the previous one once (a linear
    plan; a self-join per round would double the plan every round). The final select computes
    one more round and fails the query with raise_error() if any label would still drop, so an
    unfinished result is never written: a component whose anchor is more than `rounds` links
    from one of its nodes needs a larger var (the generator's tiers need about 6). -#}
{% macro spark__connected_components(edges) -%}
    {%- set rounds = var('connected_components_rounds', 20) | int -%}
    with
    neighbours as (
        select
            {{ edges }}.from_node,
            {{ edges }}.to_node
        from {{ edges }}
        union
        select
            {{ edges }}.from_node,
            {{ edges }}.from_node as to_node
        from {{ edges }}
    ),

    labels_0 as (
        select
            neighbours.from_node as node,
            min(neighbours.to_node) as component
        from neighbours
        group by neighbours.from_node
    ),
    {%- for round in range(1, rounds + 2) %}

    labels_{{ round }} as (
        select
            neighbours.from_node as node,
            min(labels_{{ round - 1 }}.component) as component
        from neighbours
        inner join labels_{{ round - 1 }} on neighbours.to_node = labels_{{ round - 1 }}.node
        group by neighbours.from_node
    ){% if not loop.last %},{% endif %}
    {%- endfor %}

    select
        labels_{{ rounds + 1 }}.node,
        case
            when labels_{{ rounds + 1 }}.component < labels_{{ rounds }}.component
                then cast(raise_error(
                    'connected_components: labels still changing after {{ rounds }} rounds; '
                    || 'raise the dbt var connected_components_rounds'
                ) as bigint)
            else labels_{{ rounds + 1 }}.component
        end as component
    from labels_{{ rounds + 1 }}
    inner join labels_{{ rounds }} on labels_{{ rounds + 1 }}.node = labels_{{ rounds }}.node
{%- endmacro %}
