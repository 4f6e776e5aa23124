-- Every customer with a valid order belongs to exactly one cohort: the cohort sizes (month 0)
-- add up to customer_clv's customers, and month 0 retention is the whole cohort. Returns the
-- mismatch.
with

cohort_total as (
    select
        coalesce(sum(cohort_retention.cohort_size), 0) as cohort_customers,
        count(
            case when cohort_retention.active_customers != cohort_retention.cohort_size then 1 end
        ) as incomplete_month_zero_cohorts
    from {{ ref('cohort_retention') }} as cohort_retention
    where cohort_retention.months_since_acquisition = 0
),

clv_total as (
    select count(*) as clv_customers
    from {{ ref('customer_clv') }}
),

compared as (
    select
        cohort_total.cohort_customers,
        cohort_total.incomplete_month_zero_cohorts,
        clv_total.clv_customers
    from cohort_total
    cross join clv_total
)

select * from compared
where cohort_customers != clv_customers or incomplete_month_zero_cohorts > 0
