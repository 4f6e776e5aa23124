{#- An aggregate: the distinct non-NULL values of `expression`, sorted, joined with ', ' (NULL
    when there are none). dim_customers lists a person's emails and source ids with it. -#}
{% macro sorted_list(expression) -%}
    {{ return(adapter.dispatch('sorted_list')(expression)) }}
{%- endmacro %}

{% macro default__sorted_list(expression) -%}
    listagg(distinct {{ expression }}, ', ') within group (order by {{ expression }})
{%- endmacro %}

{% macro duckdb__sorted_list(expression) -%}
    string_agg(distinct {{ expression }}, ', ' order by {{ expression }})
{%- endmacro %}

{#- array_join of an empty set is '', not NULL: NULL when no value, as on DuckDB. -#}
{% macro spark__sorted_list(expression) -%}
    case when count({{ expression }}) > 0 then array_join(array_sort(collect_set({{ expression }})), ', ') end
{%- endmacro %}
