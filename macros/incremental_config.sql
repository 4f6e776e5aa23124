{#- How incremental models are kept up to date, per engine (docs/spark.md, "dbt on Spark").
    Spark's tables here are plain Parquet (no Delta or Iceberg): no MERGE, no DELETE. -#}

{#- Staging models whose new loads replace stored rows by key (delete+insert on DuckDB). On
    Spark a replaced key's old version sits in a Parquet file that cannot be changed in place:
    replacing it means rewriting the table, which a full rebuild from raw does in one pass, so
    these models are tables there. -#}
{% macro keyed_incremental_materialization() -%}
    {{ return(adapter.dispatch('keyed_incremental_materialization')()) }}
{%- endmacro %}

{% macro default__keyed_incremental_materialization() -%}
    {{ return('incremental') }}
{%- endmacro %}

{% macro spark__keyed_incremental_materialization() -%}
    {{ return('table') }}
{%- endmacro %}

{#- Models that replace all rows of one date per run (delete+insert on DuckDB): on Spark the
    table is partitioned by that date and a run overwrites only its partition
    (insert_overwrite, dynamic partition overwrite). -#}
{% macro dated_incremental_strategy() -%}
    {{ return(adapter.dispatch('dated_incremental_strategy')()) }}
{%- endmacro %}

{% macro default__dated_incremental_strategy() -%}
    {{ return('delete+insert') }}
{%- endmacro %}

{% macro spark__dated_incremental_strategy() -%}
    {{ return('insert_overwrite') }}
{%- endmacro %}

{% macro dated_partition_by(column) -%}
    {{ return(adapter.dispatch('dated_partition_by')(column)) }}
{%- endmacro %}

{% macro default__dated_partition_by(column) -%}
    {{ return(none) }}
{%- endmacro %}

{% macro spark__dated_partition_by(column) -%}
    {{ return([column]) }}
{%- endmacro %}
