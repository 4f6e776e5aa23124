{#- The CLV model's input (KPIS.md, customer_clv; Fader, Hardie & Lee 2005): one row per
    customer with >= 1 valid order as of as_of_date, summarising its purchase days
    (int_customer_purchase_days). -#}
with

purchase_days as (
    select * from {{ ref('int_customer_purchase_days') }}
),

numbered_purchase_days as (
    select
        purchase_days.customer_key,
        purchase_days.purchase_date,
        purchase_days.net_revenue,
        row_number() over (
            partition by purchase_days.customer_key
            order by purchase_days.purchase_date
        ) as purchase_number
    from purchase_days
),

summarized as (
    select
        numbered_purchase_days.customer_key,
        min(numbered_purchase_days.purchase_date) as first_purchase_date,
        max(numbered_purchase_days.purchase_date) as last_purchase_date,
        count(*) as purchase_days,
        -- monetary: repeat purchase days only; 0 for a one-time buyer (Gamma-Gamma input)
        coalesce(
            avg(
                case
                    when numbered_purchase_days.purchase_number > 1
                        then cast(numbered_purchase_days.net_revenue as double)
                end
            ),
            0
        ) as monetary_value
    from numbered_purchase_days
    group by numbered_purchase_days.customer_key
),

final as (
    select
        summarized.customer_key,
        summarized.first_purchase_date,
        summarized.last_purchase_date,
        summarized.purchase_days,
        summarized.purchase_days - 1 as frequency,
        {{ dbt.datediff('summarized.first_purchase_date', 'summarized.last_purchase_date', 'day') }}
            as recency_days,
        {{ dbt.datediff('summarized.first_purchase_date', as_of_date(), 'day') }} as t_days,
        summarized.monetary_value
    from summarized
)

select * from final
