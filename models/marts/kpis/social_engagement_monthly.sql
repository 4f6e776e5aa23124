{#- docs/kpis.md, social_engagement_monthly: one row per month x platform, every platform with stats
    from its first month up to the month of as_of_date. -#}
with

social_stats as (
    select * from {{ ref('stg_marketing__social_stats') }}
    where not is_quarantined
),

stats_as_of as (
    select
        social_stats.platform,
        cast(social_stats.stat_date as date) as stat_date,
        {{ month_start('social_stats.stat_date') }} as month,
        social_stats.followers,
        coalesce(social_stats.likes, 0) as likes,
        coalesce(social_stats.reactions, 0) as reactions,
        coalesce(social_stats.comments, 0) as comments,
        coalesce(social_stats.shares, 0) as shares
    from social_stats
    where social_stats.stat_date <= {{ as_of_date() }}
),

-- followers at month end = followers on the month's last stat_date
last_stats_of_month as (
    select
        stats_as_of.platform,
        stats_as_of.month,
        stats_as_of.followers,
        row_number() over (
            partition by stats_as_of.platform, stats_as_of.month
            order by stats_as_of.stat_date desc
        ) as recency_rank
    from stats_as_of
),

stats_by_month as (
    select
        stats_as_of.platform,
        stats_as_of.month,
        cast(sum(stats_as_of.likes) as bigint) as likes,
        cast(sum(stats_as_of.reactions) as bigint) as reactions,
        cast(sum(stats_as_of.comments) as bigint) as comments,
        cast(sum(stats_as_of.shares) as bigint) as shares,
        cast(sum(
            stats_as_of.likes + stats_as_of.reactions + stats_as_of.comments + stats_as_of.shares
        ) as bigint) as engagements
    from stats_as_of
    group by stats_as_of.platform, stats_as_of.month
),

platforms as (
    select
        stats_as_of.platform,
        min(stats_as_of.month) as first_month
    from stats_as_of
    group by stats_as_of.platform
),

months as (
    {{ months_through_as_of('platforms', 'platforms.first_month') }}
),

joined as (
    select
        months.month,
        platforms.platform,
        last_stats_of_month.followers,
        coalesce(stats_by_month.likes, 0) as likes,
        coalesce(stats_by_month.reactions, 0) as reactions,
        coalesce(stats_by_month.comments, 0) as comments,
        coalesce(stats_by_month.shares, 0) as shares,
        coalesce(stats_by_month.engagements, 0) as engagements
    from months
    inner join platforms on months.month >= platforms.first_month
    left join stats_by_month
        on platforms.platform = stats_by_month.platform and months.month = stats_by_month.month
    left join last_stats_of_month
        on
            platforms.platform = last_stats_of_month.platform
            and months.month = last_stats_of_month.month
            and last_stats_of_month.recency_rank = 1
),

final as (
    select
        joined.month,
        joined.platform,
        joined.followers,
        joined.likes,
        joined.reactions,
        joined.comments,
        joined.shares,
        joined.engagements,
        {{ engagement_rate('joined.engagements', 'joined.followers') }} as engagement_rate
    from joined
)

select * from final
