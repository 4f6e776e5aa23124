-- kpi_by_channel splits kpi_monthly by channel without losing or adding anything: per month,
-- spend and new customers summed over channels equal kpi_monthly's marketing_spend and
-- new_customers. Returns the months that differ.
with

by_channel as (
    select
        kpi_by_channel.month,
        sum(kpi_by_channel.spend) as spend,
        sum(kpi_by_channel.new_customers) as new_customers
    from {{ ref('kpi_by_channel') }} as kpi_by_channel
    group by kpi_by_channel.month
),

compared as (
    select
        kpi_monthly.month,
        kpi_monthly.marketing_spend,
        by_channel.spend as channel_spend,
        kpi_monthly.new_customers,
        by_channel.new_customers as channel_new_customers
    from {{ ref('kpi_monthly') }} as kpi_monthly
    full outer join by_channel on kpi_monthly.month = by_channel.month
)

select * from compared
where
    abs(coalesce(marketing_spend, 0) - coalesce(channel_spend, 0)) > 0.01
    or coalesce(new_customers, 0) != coalesce(channel_new_customers, 0)
