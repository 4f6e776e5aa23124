{#- The whole quarantine: staging's row rules (stg_quarantine) plus the cross-table rules
    flagged in intermediate (order lines without an order, events for an unknown campaign,
    refunds for unknown orders …). To add a cross-table rule: write an intermediate model with
    exactly the columns of stg_quarantine (source, table_name, primary_key_value,
    quarantine_reason, _load_id, _file_name, _line_number; one row per flagged row) and add its
    name to `referential_models` below. -#}
{%- set referential_models = ['int_reference_violations'] -%}

with

row_rules as (
    select * from {{ ref('stg_quarantine') }}
),

{% for model in referential_models %}
{{ model }} as (
    select * from {{ ref(model) }}
),

{% endfor %}
unioned as (
    select
        source,
        table_name,
        primary_key_value,
        quarantine_reason,
        _load_id,
        _file_name,
        _line_number,
        'row' as rule_kind
    from row_rules
    {% for model in referential_models %}
    union all
    select
        source,
        table_name,
        primary_key_value,
        quarantine_reason,
        _load_id,
        _file_name,
        _line_number,
        'reference' as rule_kind
    from {{ model }}
    {% endfor %}
)

select * from unioned
