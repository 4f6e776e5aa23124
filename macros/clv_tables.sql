{#- on-run-start (dbt_project.yml): the tables the Python CLV asset (orchestration/clv) writes,
    created empty when missing, so that `dbt build` works before the first fit
    (docs/design.md, "KPI marts and CLV"). The column lists are that interface. -#}
{% macro clv_prediction_tables() -%}
    {{ return({
        'clv.customer_clv_predictions': [
            ('customer_key', 'varchar'),
            ('p_alive', 'double'),
            ('expected_purchases', 'double'),
            ('expected_order_value', 'double'),
            ('predicted_clv', 'double'),
            ('churn_probability', 'double'),
            ('expected_next_order_date', 'date'),
        ],
        'marts.customer_clv_model': [
            ('fitted_at', 'timestamp'),
            ('as_of_date', 'date'),
            ('time_unit', 'varchar'),
            ('r', 'double'),
            ('alpha', 'double'),
            ('a', 'double'),
            ('b', 'double'),
            ('p', 'double'),
            ('q', 'double'),
            ('gamma', 'double'),
            ('customers', 'bigint'),
            ('log_likelihood', 'double'),
            ('converged', 'boolean'),
            ('mbgnbd_r', 'double'),
            ('mbgnbd_alpha', 'double'),
            ('mbgnbd_a', 'double'),
            ('mbgnbd_b', 'double'),
            ('mbgnbd_log_likelihood', 'double'),
            ('model_repeat_buyers', 'varchar'),
            ('model_one_time_buyers', 'varchar'),
            ('holdout_weeks', 'integer'),
            ('reason', 'varchar'),
        ],
    }) }}
{%- endmacro %}

{% macro create_clv_prediction_tables() -%}
    {{ return(adapter.dispatch('create_clv_prediction_tables')()) }}
{%- endmacro %}

{% macro default__create_clv_prediction_tables() -%}
    {%- if execute -%}
        {%- for table, columns in clv_prediction_tables().items() %}
        create schema if not exists {{ table.split('.')[0] }};
        create table if not exists {{ table }} (
            {%- for name, type in columns %}
            {{ name }} {{ type }}{% if not loop.last %},{% endif %}
            {%- endfor %}
        );
        {%- endfor %}
    {%- endif -%}
{%- endmacro %}

{#- Spark runs one statement per call and needs `string` (not a bare varchar) and a Parquet
    table: the statements run here; the hook itself is empty. -#}
{% macro spark__create_clv_prediction_tables() -%}
    {%- if execute -%}
        {%- for table, columns in clv_prediction_tables().items() %}
            {%- do run_query('create schema if not exists ' ~ table.split('.')[0]) -%}
            {%- set ddl -%}
                create table if not exists {{ table }} (
                    {%- for name, type in columns %}
                    {{ name }} {{ 'string' if type == 'varchar' else type }}{% if not loop.last %},{% endif %}
                    {%- endfor %}
                ) using parquet
            {%- endset -%}
            {%- do run_query(ddl) -%}
        {%- endfor %}
    {%- endif -%}
{%- endmacro %}

{#- `first` and `second` stacked by column name (columns missing from one side are NULL).
    DuckDB: union all by name, so a predictions table written by an older CLV asset (fewer
    columns) still reads. Spark SQL has no union by name; there the predictions table is always
    created by this project with every column (on-run-start), so `second` alone is the union. -#}
{% macro union_all_by_name(first, second) -%}
    {{ return(adapter.dispatch('union_all_by_name')(first, second)) }}
{%- endmacro %}

{% macro default__union_all_by_name(first, second) -%}
    select * from {{ first }}
    union all by name
    select * from {{ second }}
{%- endmacro %}

{% macro spark__union_all_by_name(first, second) -%}
    select * from {{ second }}
{%- endmacro %}
