{#- "Which customer does this row belong to": the one rule every fact uses to give a row its
    customer_key. `identifiers` is a list of (identifier_type, SQL expression) in priority order,
    e.g. [('shop_customer_id', 'orders.shop_customer_id'), ('email', 'orders.email')]: the first
    identifier that int_identities_resolved knows decides; NULL when none does. Pass an email
    expression that is NULL for an invalid email when the row may carry one (an invalid email
    never links anything, docs/landing-contract.md). Each lookup is a scalar subquery on the identity model,
    whose (identifier_type, identifier_value) is unique. -#}
{% macro customer_key_for(identifiers) -%}
    {{ return(adapter.dispatch('customer_key_for')(identifiers)) }}
{%- endmacro %}

{% macro default__customer_key_for(identifiers) -%}
    coalesce(
        {%- for identifier_type, expression in identifiers %}
        (
            select customer_identities.customer_key
            from {{ ref('int_identities_resolved') }} as customer_identities
            where
                customer_identities.identifier_type = '{{ identifier_type }}'
                and customer_identities.identifier_value = {{ expression }}
        ){{ "," if not loop.last }}
        {%- endfor %}
    )
{%- endmacro %}

{#- Spark: the same lookups as aggregated scalar subqueries (max of the one matching row).
    Spark 4.3 rewrites a non-aggregated correlated scalar subquery into a plan that fails on
    some inputs ("key not found: identifier_value#…", seen with unit test fixtures). -#}
{% macro spark__customer_key_for(identifiers) -%}
    coalesce(
        {%- for identifier_type, expression in identifiers %}
        (
            select max(customer_identities.customer_key)
            from {{ ref('int_identities_resolved') }} as customer_identities
            where
                customer_identities.identifier_type = '{{ identifier_type }}'
                and customer_identities.identifier_value = {{ expression }}
        ){{ "," if not loop.last }}
        {%- endfor %}
    )
{%- endmacro %}
