{#- The reference rule of docs/landing-contract.md ("order lines without an order", "events for an
    unknown campaign"), written once for the int_*_referenced models: a row whose `foreign_key`
    names no staged `parent` row, or a quarantined one, gets a reference issue (NULL when fine).
    `parent` is the joined parent CTE, `parent_key` its key, `parent_noun` what it is called in
    the reason. The `when` branches of a `case`; a model may add its own after them. -#}
{% macro reference_issue_branches(foreign_key, parent, parent_key, parent_noun) -%}
    when {{ parent }}.{{ parent_key }} is null then 'unknown {{ foreign_key }}'
            when {{ parent }}.is_quarantined then '{{ foreign_key }} refers to a quarantined {{ parent_noun }}'
{%- endmacro %}
