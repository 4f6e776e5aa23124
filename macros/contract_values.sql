{#- Accepted values of a column, from the landing contract: orchestration/landing_contract.yml
    lists them once (`values:`), orchestration/dbt_sources.py renders them into the sources
    YAML as the column's meta `accepted_values`, and this test reads them from there. So a new
    status is added to the contract alone, never typed again in a test. -#}
{% macro contract_accepted_values(source_table, column) -%}
    {%- set source_name, table_name = source_table.split('.') -%}
    {%- for node in graph.sources.values() -%}
        {%- if node.source_name == source_name and node.name == table_name -%}
            {%- set contract_column = node.columns.get(column) or {} -%}
            {%- set meta = contract_column.get('meta') or (contract_column.get('config') or {}).get('meta') or {} -%}
            {{- return(meta.get('accepted_values') or []) -}}
        {%- endif -%}
    {%- endfor -%}
    {{- return([]) -}}
{%- endmacro %}

{#- Rows whose column is not one of the contract's values for `source_table` (`<source>.<table>`;
    `contract_column` when the staged name differs). NULLs pass, as in dbt's accepted_values. -#}
{% test contract_values(model, column_name, source_table, contract_column=none) %}
{%- set accepted = [] -%}
{%- if execute -%}
    {%- set accepted = contract_accepted_values(source_table, contract_column or column_name) -%}
    {%- if not accepted -%}
        {{ exceptions.raise_compiler_error(
            "contract_values: the landing contract lists no values for " ~ source_table ~ "."
            ~ (contract_column or column_name)
        ) }}
    {%- endif -%}
{%- endif %}

select
    {{ column_name }} as value_field,
    count(*) as n_records
from {{ model }}
where
    {{ column_name }} is not null
    {%- if accepted %}
        and {{ column_name }} not in (
            {%- for value in accepted %}
                '{{ value }}'{% if not loop.last %},{% endif %}
            {%- endfor %}
        )
    {%- endif %}
group by {{ column_name }}

{% endtest %}
