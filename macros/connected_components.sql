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
