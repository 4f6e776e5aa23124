{#- A continuous spine of months (first day of each month, as a date) between two month
    expressions evaluated on one row of `bounds_relation`, both ends included. No rows when
    either bound is NULL (an empty warehouse has no months). dbt's own date_spine needs its
    bounds at compile time, so this one is computed in SQL; engine syntax behind dispatch. -#}
{% macro month_spine(bounds_relation, first_month, last_month) -%}
    {{ return(adapter.dispatch('month_spine')(bounds_relation, first_month, last_month)) }}
{%- endmacro %}

{% macro default__month_spine(bounds_relation, first_month, last_month) -%}
    select
        cast(
            unnest(
                generate_series(
                    cast({{ first_month }} as timestamp),
                    cast({{ last_month }} as timestamp),
                    interval 1 month
                )
            ) as date
        ) as month
    from {{ bounds_relation }}
{%- endmacro %}

{% macro spark__month_spine(bounds_relation, first_month, last_month) -%}
    select explode(sequence(to_date({{ first_month }}), to_date({{ last_month }}), interval 1 month)) as month
    from {{ bounds_relation }}
{%- endmacro %}

{#- A continuous spine of days (as dates) between two date expressions evaluated on one row of
    `bounds_relation`, both ends included; like month_spine, engine syntax behind dispatch. -#}
{% macro day_spine(bounds_relation, first_day, last_day) -%}
    {{ return(adapter.dispatch('day_spine')(bounds_relation, first_day, last_day)) }}
{%- endmacro %}

{% macro default__day_spine(bounds_relation, first_day, last_day) -%}
    select
        cast(
            unnest(
                generate_series(
                    cast({{ first_day }} as timestamp),
                    cast({{ last_day }} as timestamp),
                    interval 1 day
                )
            ) as date
        ) as date_day
    from {{ bounds_relation }}
{%- endmacro %}

{% macro spark__day_spine(bounds_relation, first_day, last_day) -%}
    select explode(sequence(to_date({{ first_day }}), to_date({{ last_day }}), interval 1 day)) as date_day
    from {{ bounds_relation }}
{%- endmacro %}

{#- The month of a date or timestamp, as the date of its first day (the `month` of the marts). -#}
{% macro month_start(expression) -%}
    cast({{ dbt.date_trunc('month', expression) }} as date)
{%- endmacro %}
