{#- The KPI formulas of docs/kpis.md, one macro each, so that every mart showing a KPI
    uses the same expression (docs/design.md, "KPI marts": formulas live here once; the
    unit tests of the marts that call them are the tests of the formulas). Each takes SQL
    expressions, returns a row expression, and is NULL when its denominator is 0 or NULL
    (safe_divide), never an error and never a made-up 0. -#}

{#- docs/kpis.md: AOV = net revenue / orders. -#}
{% macro aov(net_revenue, orders) -%}
    {{ safe_divide(net_revenue, orders) }}
{%- endmacro %}

{#- Net revenue per customer of a group (first-year revenue per new customer, cumulative
    revenue per cohort customer). -#}
{% macro net_revenue_per_customer(net_revenue, customers) -%}
    {{ safe_divide(net_revenue, customers) }}
{%- endmacro %}

{#- docs/kpis.md: transaction frequency = orders / active customers. -#}
{% macro transaction_frequency(orders, active_customers) -%}
    {{ safe_divide(orders, active_customers) }}
{%- endmacro %}

{#- docs/kpis.md: CAC = marketing spend / new customers. -#}
{% macro cac(spend, new_customers) -%}
    {{ safe_divide(spend, new_customers) }}
{%- endmacro %}

{#- docs/kpis.md: repeat purchase rate = customers with >= 2 valid orders / customers with >= 1. -#}
{% macro repeat_purchase_rate(repeat_customers, customers) -%}
    {{ safe_divide(repeat_customers, customers) }}
{%- endmacro %}

{#- docs/kpis.md: cart abandonment rate = abandoned checkouts / checkouts. -#}
{% macro cart_abandonment_rate(abandoned_checkouts, checkouts) -%}
    {{ safe_divide(abandoned_checkouts, checkouts) }}
{%- endmacro %}

{#- docs/kpis.md: NPS = % promoters (9-10) - % detractors (0-6), in points from -100 to 100. -#}
{% macro nps(promoters, detractors, responses) -%}
    (100.0 * {{ safe_divide('(' ~ promoters ~ ') - (' ~ detractors ~ ')', responses) }})
{%- endmacro %}

{#- docs/kpis.md: NPS answer classes. -#}
{% macro is_nps_promoter(score) -%}
    coalesce({{ score }} >= 9, false)
{%- endmacro %}

{% macro is_nps_detractor(score) -%}
    coalesce({{ score }} <= 6, false)
{%- endmacro %}

{#- docs/kpis.md: conversion rate = conversions / the base they come from (clicks, interactions). -#}
{% macro conversion_rate(conversions, base) -%}
    {{ safe_divide(conversions, base) }}
{%- endmacro %}

{#- docs/kpis.md: LTV:CAC = first-year net revenue per new customer / CAC. -#}
{% macro ltv_to_cac(ltv_per_customer, cac) -%}
    {{ safe_divide(ltv_per_customer, cac) }}
{%- endmacro %}

{#- docs/kpis.md: retention rate = active customers of a cohort / cohort size. -#}
{% macro retention_rate(active_customers, cohort_size) -%}
    {{ safe_divide(active_customers, cohort_size) }}
{%- endmacro %}

{#- docs/kpis.md: next purchase probability = customers with >= n+1 orders / customers with >= n. -#}
{% macro next_purchase_probability(customers_with_at_least_n_plus_1, customers_with_at_least_n) -%}
    {{ safe_divide(customers_with_at_least_n_plus_1, customers_with_at_least_n) }}
{%- endmacro %}

{#- docs/kpis.md: email rates over delivered / opened recipients. -#}
{% macro open_rate(opened, delivered) -%}
    {{ safe_divide(opened, delivered) }}
{%- endmacro %}

{% macro click_rate(clicked, delivered) -%}
    {{ safe_divide(clicked, delivered) }}
{%- endmacro %}

{% macro click_to_open_rate(clicked, opened) -%}
    {{ safe_divide(clicked, opened) }}
{%- endmacro %}

{#- docs/kpis.md: cost per impression = cost / impressions (unique opens). -#}
{% macro cost_per_impression(cost, impressions) -%}
    {{ safe_divide(cost, impressions) }}
{%- endmacro %}

{#- docs/kpis.md: churn rates = lost in the period / active at its start. -#}
{% macro churn_rate(churned, active_at_start) -%}
    {{ safe_divide(churned, active_at_start) }}
{%- endmacro %}

{#- docs/kpis.md: engagement rate = engagements / followers x 100 (a percentage). -#}
{% macro engagement_rate(engagements, followers) -%}
    (100.0 * {{ safe_divide(engagements, followers) }})
{%- endmacro %}

{#- docs/kpis.md: expected customer lifespan in years = 1 / annual churn rate, capped at 10 years
    (a churn rate of 0 gives the cap). NULL when the churn rate is unknown. -#}
{% macro expected_lifespan_years(annual_churn_rate) -%}
    case
        when {{ annual_churn_rate }} is null then null
        when {{ annual_churn_rate }} <= 0.1 then 10.0
        else 1.0 / cast({{ annual_churn_rate }} as double)
    end
{%- endmacro %}

{#- docs/kpis.md: formula CLV = orders per year x AOV x expected lifespan in years. -#}
{% macro formula_clv(orders_per_year, aov, annual_churn_rate) -%}
    (cast({{ orders_per_year }} as double) * {{ aov }} * {{ expected_lifespan_years(annual_churn_rate) }})
{%- endmacro %}
