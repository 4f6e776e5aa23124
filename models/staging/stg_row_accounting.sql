{#- Nothing lost (docs/landing-contract.md): per raw table, raw rows = staged rows + older versions and exact
    duplicates removed by the latest-version rule. Duplicates are counted from raw on the same
    cleaned key staging partitions by, independently of the staged count, so a staging bug that
    drops or multiplies rows unbalances the table (data-tests/assert_every_raw_row_is_accounted_for).
    Quarantined rows are still staged (flagged), so they are part of staged_rows.
    A view, unlike the other staging models: the accounting always reads raw and staging as they
    are now (a few counts over tables), so rows that reach raw and not staging unbalance it
    whenever it is checked, not only when it was last built. -#}
{{ config(materialized='view') }}
with

{% for table in staging_tables() %}
raw_{{ table.model }} as (
    select
        count(*) as raw_rows,
        count(distinct {{ primary_key_text(table.raw_primary_key) }}) as distinct_keys
    from {{ source(table.source, table.table) }}
),

staged_{{ table.model }} as (
    select
        count(*) as staged_rows,
        count(case when is_quarantined then 1 end) as quarantined_rows
    from {{ ref(table.model) }}
),

{% endfor %}
counted as (
    {% for table in staging_tables() %}
    select
        '{{ table.source }}' as source,
        '{{ table.table }}' as table_name,
        raw_{{ table.model }}.raw_rows,
        staged_{{ table.model }}.staged_rows,
        raw_{{ table.model }}.raw_rows - raw_{{ table.model }}.distinct_keys as duplicates_removed,
        staged_{{ table.model }}.quarantined_rows
    from raw_{{ table.model }}
    cross join staged_{{ table.model }}
    {% if not loop.last %}union all{% endif %}
    {% endfor %}
),

balanced as (
    select
        counted.*,
        counted.raw_rows = counted.staged_rows + counted.duplicates_removed as is_balanced
    from counted
)

select * from balanced
