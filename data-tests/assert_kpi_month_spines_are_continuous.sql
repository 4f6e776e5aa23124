-- The monthly KPI marts have one row per month, with no gap, ending at the month of
-- as_of_date (a month without data still has its row). Returns the marts that break this.
with

monthly_marts as (
    select
        'kpi_monthly' as mart,
        kpi_monthly.month
    from {{ ref('kpi_monthly') }} as kpi_monthly
    union all
    select
        'subscription_metrics_monthly' as mart,
        subscription_metrics_monthly.month
    from {{ ref('subscription_metrics_monthly') }} as subscription_metrics_monthly
),

spans as (
    select
        monthly_marts.mart,
        count(*) as months,
        count(distinct monthly_marts.month) as distinct_months,
        min(monthly_marts.month) as first_month,
        max(monthly_marts.month) as last_month
    from monthly_marts
    group by monthly_marts.mart
)

select * from spans
where
    months != distinct_months
    or months != {{ dbt.datediff('first_month', 'last_month', 'month') }} + 1
    or last_month != {{ month_start(as_of_date()) }}
