{#- docs/landing-contract.md: the same key can arrive in many files. The latest version wins: the latest
    `version_by` value (NULLs last), then the later load (`_load_id`), then the later line of
    the file (`_line_number`). Window PARTITION BY groups NULLs together, so an optional key
    column (ad_spend's `campaign`) is compared NULL-safely. -#}
{% macro latest_version_order(version_by=none) -%}
    {%- if version_by -%}{{ version_by }} desc nulls last, {% endif -%}
    _load_id desc, _line_number desc
{%- endmacro %}

{#- Keep the latest version of each key of `relation` (a CTE name). DuckDB filters the window
    in place with `qualify`; elsewhere a subquery does it and leaves a `_version_rank` column. -#}
{% macro latest_version(relation, partition_by, version_by=none) -%}
    {{ return(adapter.dispatch('latest_version')(relation, partition_by, version_by)) }}
{%- endmacro %}

{% macro default__latest_version(relation, partition_by, version_by=none) -%}
    select *
    from (
        select
            {{ relation }}.*,
            row_number() over (
                partition by {{ partition_by | join(', ') }}
                order by {{ latest_version_order(version_by) }}
            ) as _version_rank
        from {{ relation }}
    ) as ranked
    where _version_rank = 1
{%- endmacro %}

{% macro duckdb__latest_version(relation, partition_by, version_by=none) -%}
    select *
    from {{ relation }}
    qualify row_number() over (
        partition by {{ partition_by | join(', ') }}
        order by {{ latest_version_order(version_by) }}
    ) = 1
{%- endmacro %}

{#- Incremental staging reads only the loads it has not processed yet: load ids increase in load
    order (orchestration/ingest), so everything above the largest stored one is new. -#}
{% macro only_new_loads() -%}
    {%- if is_incremental() %}
    where _load_id > (select coalesce(max(stored._load_id), -1) from {{ this }} as stored)
    {%- endif %}
{%- endmacro %}
