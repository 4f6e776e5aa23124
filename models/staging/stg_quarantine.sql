{#- Every row a staging model flagged (is_quarantined), one list for the whole warehouse. Row
    rules only: cross-table rules (references to ids that do not exist) are flagged in
    intermediate and unioned with this list in intermediate/quality/int_quarantined_rows_unioned.
    The tables and their keys are listed once, in macro staging_tables(). -#}
with

{% for table in staging_tables() %}
{{ table.model }} as (
    select
        '{{ table.source }}' as source,
        '{{ table.table }}' as table_name,
        {{ primary_key_text(table.primary_key) }} as primary_key_value,
        quarantine_reason,
        _load_id,
        _file_name,
        _line_number
    from {{ ref(table.model) }}
    where is_quarantined
),

{% endfor %}
unioned as (
    {% for table in staging_tables() %}
    select * from {{ table.model }}
    {% if not loop.last %}union all{% endif %}
    {% endfor %}
)

select * from unioned
