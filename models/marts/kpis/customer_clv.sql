{#- KPIS.md, customer_clv: one row per customer with >= 1 valid order as of as_of_date.
    Predictions come from the Python CLV asset (source clv.customer_clv_predictions): NULL
    until the model has been fitted. -#}
with

orders as (
    select * from {{ ref('fct_orders') }}
),

predictions as (
    select * from {{ source('clv', 'customer_clv_predictions') }}
),

valid_orders as (
    select
        orders.customer_key,
        orders.order_date,
        orders.net_revenue
    from orders
    where
        orders.is_valid_order
        and orders.customer_key is not null
        and orders.order_date <= {{ as_of_date() }}
),

customer_orders as (
    select
        valid_orders.customer_key,
        min(valid_orders.order_date) as first_order_date,
        max(valid_orders.order_date) as last_order_date,
        count(*) as valid_order_count,
        sum(valid_orders.net_revenue) as net_revenue
    from valid_orders
    group by valid_orders.customer_key
),

-- The business's annual churn rate: of the customers with a valid order in the year before
-- the last one (as_of_date - 24 months, as_of_date - 12 months], the share with no valid order
-- in the last year (as_of_date - 12 months, as_of_date]. NULL with less than a year of history
-- before the last year.
yearly_buyers as (
    select
        valid_orders.customer_key,
        max(
            case
                when
                    valid_orders.order_date
                    > {{ dbt.dateadd('month', -24, as_of_date()) }}
                    and valid_orders.order_date
                    <= {{ dbt.dateadd('month', -12, as_of_date()) }}
                    then 1
                else 0
            end
        ) = 1 as bought_in_previous_year,
        max(
            case
                when valid_orders.order_date > {{ dbt.dateadd('month', -12, as_of_date()) }}
                    then 1
                else 0
            end
        ) = 1 as bought_in_last_year
    from valid_orders
    group by valid_orders.customer_key
),

business_churn as (
    select
        count(case when yearly_buyers.bought_in_previous_year then 1 end)
            as previous_year_customers,
        count(
            case
                when yearly_buyers.bought_in_previous_year and not yearly_buyers.bought_in_last_year
                    then 1
            end
        ) as churned_customers
    from yearly_buyers
),

annual_churn as (
    select
        {{ churn_rate('business_churn.churned_customers', 'business_churn.previous_year_customers') }}
            as annual_churn_rate
    from business_churn
),

-- tenure: days from the first valid order to as_of_date, counted as at least one year so that
-- a customer of a few days is not annualised (one order yesterday is not 365 orders a year)
tenures as (
    select
        customer_orders.*,
        greatest(
            {{ dbt.datediff('customer_orders.first_order_date', as_of_date(), 'day') }}, 365
        ) / 365.0 as tenure_years
    from customer_orders
),

per_customer_rates as (
    select
        tenures.*,
        tenures.valid_order_count / tenures.tenure_years as orders_per_year,
        {{ aov('tenures.net_revenue', 'tenures.valid_order_count') }} as aov
    from tenures
),

final as (
    select
        per_customer_rates.customer_key,
        per_customer_rates.first_order_date,
        per_customer_rates.last_order_date,
        per_customer_rates.valid_order_count,
        -- historical
        per_customer_rates.net_revenue as historical_clv,
        -- formula CLV (KPIS.md)
        per_customer_rates.tenure_years,
        per_customer_rates.orders_per_year,
        per_customer_rates.aov,
        annual_churn.annual_churn_rate,
        {{ expected_lifespan_years('annual_churn.annual_churn_rate') }} as expected_lifespan_years,
        {{ formula_clv(
            'per_customer_rates.orders_per_year',
            'per_customer_rates.aov',
            'annual_churn.annual_churn_rate',
        ) }} as formula_clv,
        -- predicted (BG/NBD + Gamma-Gamma, orchestration/clv)
        predictions.p_alive,
        predictions.expected_purchases,
        predictions.expected_order_value,
        predictions.predicted_clv
    from per_customer_rates
    cross join annual_churn
    left join predictions on per_customer_rates.customer_key = predictions.customer_key
)

select * from final
