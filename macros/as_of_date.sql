{#- docs/kpis.md: every mart is computed as of `as_of_date`; data after it is ignored. The date is
    decided once, in model int_as_of_date (var as_of_date when set, else the latest clean order
    date, else today), and every model reads it through this macro: a scalar subquery, so it
    works in where clauses, select lists and dbt.datediff() on any engine. Calling it adds the
    ref, so the calling model builds after int_as_of_date. Compare dates with dates:
    `cast(ordered_at as date) <= {{ as_of_date() }}`. -#}
{% macro as_of_date() -%}
    (select as_of.as_of_date from {{ ref('int_as_of_date') }} as as_of)
{%- endmacro %}
