{#- docs/kpis.md customer_clv, computed here once and read by the customer_clv mart and dim_customers:
    one row per customer with >= 1 valid order as of as_of_date. Historical and formula CLV from
    int_customer_purchases_summarized; predictions from the Python CLV asset (source
    clv.customer_clv_predictions, written by orchestration/clv; NULL until the model has been
    fitted). Only this model reads that source, so everything that needs the predictions builds
    after the CLV fit. A predictions table written before churn_probability and
    expected_next_order_date existed (create table if not exists does not add columns to an
    existing warehouse, and an older CLV asset rewrites it without them) gives NULL for them
    instead of failing the build. -#}
with

purchases as (
    select * from {{ ref('int_customer_purchases_summarized') }}
),

-- union by name (DuckDB): a predictions table written before churn_probability and
-- expected_next_order_date existed gives NULL for them instead of failing the build
prediction_columns as (
    select
        cast(null as string) as customer_key,
        cast(null as double) as churn_probability,
        cast(null as date) as expected_next_order_date
    where false
),

predictions as (
    {{ union_all_by_name('prediction_columns', source('clv', 'customer_clv_predictions')) }}
),

-- The business's annual churn rate: of the customers with a valid order in the year before
-- the last one (as_of_date - 24 months, as_of_date - 12 months], the share with no valid order
-- in the last year (as_of_date - 12 months, as_of_date]. NULL with less than a year of history
-- before the last year.
business_churn as (
    select
        count(case when purchases.has_ordered_in_previous_year then 1 end)
            as previous_year_customers,
        count(
            case
                when purchases.has_ordered_in_previous_year and not purchases.has_ordered_in_last_year
                    then 1
            end
        ) as churned_customers
    from purchases
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
        purchases.*,
        -- in double on every engine (Spark would divide an int by 365.0 in decimal)
        cast(greatest(
            {{ dbt.datediff('purchases.first_purchase_date', as_of_date(), 'day') }}, 365
        ) as double) / 365 as tenure_years
    from purchases
),

final as (
    select
        tenures.customer_key,
        tenures.first_purchase_date as first_order_date,
        tenures.last_purchase_date as last_order_date,
        tenures.valid_order_count,
        -- historical
        tenures.net_revenue as historical_clv,
        -- formula CLV (docs/kpis.md)
        tenures.tenure_years,
        tenures.valid_order_count / tenures.tenure_years as orders_per_year,
        tenures.aov,
        annual_churn.annual_churn_rate,
        {{ expected_lifespan_years('annual_churn.annual_churn_rate') }} as expected_lifespan_years,
        {{ formula_clv(
            'tenures.valid_order_count / tenures.tenure_years',
            'tenures.aov',
            'annual_churn.annual_churn_rate',
        ) }} as formula_clv,
        -- predicted (orchestration/clv)
        predictions.p_alive,
        predictions.churn_probability,
        predictions.expected_next_order_date,
        predictions.expected_purchases,
        predictions.expected_order_value,
        predictions.predicted_clv
    from tenures
    cross join annual_churn
    left join predictions on tenures.customer_key = predictions.customer_key
)

select * from final
