{#- Schemas are named exactly as configured (staging, intermediate, marts …): docs/kpis.md makes
    `marts` part of the public contract, so dbt's default <target>_<custom> prefix is dropped. -#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name is none -%}
        {{ target.schema }}
    {%- else -%}
        {{ custom_schema_name | trim }}
    {%- endif -%}
{%- endmacro %}
