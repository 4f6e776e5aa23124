{#- Snapshots on Spark without Delta, Iceberg or Hudi (docs/spark.md, "Snapshots").

    dbt-spark's snapshot needs a table format with MERGE. This one rewrites the snapshot's
    Parquet table instead, with the same rows dbt's own check strategy writes on DuckDB
    (hard_deletes: ignore):
    - a key not current in the snapshot gets a new row (dbt_valid_from = the snapshot time);
    - a key whose check_cols differ (NULL-safe) from its current row: that row is closed
      (dbt_valid_to = the snapshot time) and a new current row starts;
    - a key gone from the source keeps its current row.
    The next state is written to `<snapshot>__dbt_next` first (Spark cannot overwrite a table it
    reads in the same statement), then copied over the snapshot. Only the `check` strategy with
    a column list is implemented (what snapshots/ uses); others fail with a clear error. A source
    column added later is not picked up (build the snapshot anew to add it). -#}
{% materialization snapshot, adapter='spark' %}
    {%- set unique_key = config.get('unique_key') -%}
    {%- set check_cols = config.get('check_cols') -%}
    {%- if config.get('strategy') != 'check' or check_cols is string -%}
        {{ exceptions.raise_compiler_error(
            "snapshot " ~ model.name ~ ": on Spark only strategy 'check' with a list of check_cols"
            ~ " is implemented (macros/spark/snapshot.sql)"
        ) }}
    {%- endif -%}
    {%- if adapter.get_hard_deletes_behavior(config) != 'ignore' -%}
        {{ exceptions.raise_compiler_error(
            "snapshot " ~ model.name ~ ": on Spark only hard_deletes 'ignore' is implemented"
        ) }}
    {%- endif -%}

    {%- set target_relation = this -%}
    {%- set existing_relation = load_relation(this) -%}
    {%- set next_relation = this.incorporate(path={"identifier": this.identifier ~ '__dbt_next'}) -%}
    {%- set dbt_columns = ['dbt_scd_id', 'dbt_updated_at', 'dbt_valid_from', 'dbt_valid_to'] -%}

    {{ run_hooks(pre_hooks) }}
    {% do adapter.create_schema(target_relation) %}

    {#- One snapshot time for every row this run writes. -#}
    {%- set now_text = run_query("select cast(current_timestamp() as string)").columns[0].values()[0] -%}
    {%- set now = "timestamp'" ~ now_text ~ "'" -%}
    {%- set scd_id -%}
        md5(concat_ws('|', coalesce(cast(source.{{ unique_key }} as string), ''), cast({{ now }} as string)))
    {%- endset -%}

    {%- if existing_relation is none -%}
        {% call statement('main') -%}
            create table {{ target_relation }}
            using parquet
            as
            select
                source.*,
                {{ scd_id }} as dbt_scd_id,
                {{ now }} as dbt_updated_at,
                {{ now }} as dbt_valid_from,
                cast(null as timestamp) as dbt_valid_to
            from ({{ model['compiled_code'] }}) as source
        {%- endcall %}
    {%- else -%}
        {%- set source_columns = [] -%}
        {%- for column in adapter.get_columns_in_relation(existing_relation) -%}
            {%- if column.name | lower not in dbt_columns -%}
                {%- do source_columns.append(column.name) -%}
            {%- endif -%}
        {%- endfor -%}
        {% call statement('drop_next') -%}
            drop table if exists {{ next_relation }}
        {%- endcall %}
        {% call statement('build_next') -%}
            create table {{ next_relation }}
            using parquet
            as
            with
            source as (
                {{ model['compiled_code'] }}
            ),

            current_rows as (
                select * from {{ target_relation }}
                where dbt_valid_to is null
            ),

            changed as (
                select source.*
                from source
                inner join current_rows on source.{{ unique_key }} = current_rows.{{ unique_key }}
                where
                    {%- for column in check_cols %}
                    not (current_rows.{{ column }} <=> source.{{ column }}){% if not loop.last %} or{% endif %}
                    {%- endfor %}
            ),

            added as (
                select source.*
                from source
                left join current_rows on source.{{ unique_key }} = current_rows.{{ unique_key }}
                where current_rows.{{ unique_key }} is null
            ),

            fresh as (
                select * from changed
                union all
                select * from added
            )

            select
                {%- for column in source_columns %}
                history.{{ column }},
                {%- endfor %}
                history.dbt_scd_id,
                history.dbt_updated_at,
                history.dbt_valid_from,
                case
                    when history.dbt_valid_to is null
                        and history.{{ unique_key }} in (select changed.{{ unique_key }} from changed)
                        then {{ now }}
                    else history.dbt_valid_to
                end as dbt_valid_to
            from {{ target_relation }} as history

            union all

            select
                {%- for column in source_columns %}
                source.{{ column }},
                {%- endfor %}
                {{ scd_id }} as dbt_scd_id,
                {{ now }} as dbt_updated_at,
                {{ now }} as dbt_valid_from,
                cast(null as timestamp) as dbt_valid_to
            from fresh as source
        {%- endcall %}
        {% call statement('main') -%}
            insert overwrite table {{ target_relation }}
            select * from {{ next_relation }}
        {%- endcall %}
        {% call statement('drop_next_after') -%}
            drop table {{ next_relation }}
        {%- endcall %}
    {%- endif -%}

    {% do persist_docs(target_relation, model) %}
    {{ run_hooks(post_hooks) }}
    {{ return({'relations': [target_relation]}) }}
{% endmaterialization %}
