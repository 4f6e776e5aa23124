{#- The months a monthly mart shows: one row (`month`) for every month from the first month of
    `first_month` (an expression over `relation`) through the month of as_of_date, with or
    without data. Written once for the monthly KPI marts. -#}
{% macro months_through_as_of(relation, first_month) -%}
    {%- set bounds -%}
        (
            select
                min({{ first_month }}) as first_month,
                {{ month_start(as_of_date()) }} as last_month
            from {{ relation }}
        ) as bounds
    {%- endset -%}
    {{ month_spine(bounds, 'bounds.first_month', 'bounds.last_month') }}
{%- endmacro %}
