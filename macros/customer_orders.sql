{#- The orders every per-customer purchase figure counts (docs/kpis.md): valid (is_valid_order:
    not cancelled, voided or pending), of a resolved customer, placed by as_of_date. `orders` is
    the alias of a relation with the columns of fct_orders. -#}
{% macro is_customer_order_by_as_of(orders) -%}
    ({{ orders }}.is_valid_order and {{ orders }}.customer_key is not null and {{ orders }}.order_date <= {{ as_of_date() }})
{%- endmacro %}
