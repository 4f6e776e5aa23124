-- Lifecycle stages: a customer who has a subscription has paid, so is at least in conversion;
-- none sits in awareness or engagement. Returns such customers.
with

customers as (
    select * from {{ ref('dim_customers') }}
)

select
    customers.customer_key,
    customers.lifecycle_stage,
    customers.subscription_count
from customers
where
    customers.subscription_count > 0
    and customers.lifecycle_stage in ('awareness', 'engagement')
