{#- docs/kpis.md marketing spend at its natural grain, for the semantic layer (models/marts/semantic):
    one row per spend source x spend date x channel x source channel x campaign, as of
    as_of_date (int_marketing_spend_unioned applies as_of_date, the currency conversion and the
    channel mapping; this mart only sums rows of the same grain, e.g. two ad-spend rows of one
    campaign on one day). -#}
with

marketing_spend as (
    select * from {{ ref('int_marketing_spend_unioned') }}
),

aggregated as (
    select
        marketing_spend.spend_source,
        marketing_spend.spend_date,
        marketing_spend.channel,
        marketing_spend.source_channel,
        marketing_spend.campaign_id,
        marketing_spend.campaign_name,
        {{ sum_money('marketing_spend.spend') }} as spend,
        sum(marketing_spend.impressions) as impressions,
        sum(marketing_spend.clicks) as clicks
    from marketing_spend
    group by
        marketing_spend.spend_source,
        marketing_spend.spend_date,
        marketing_spend.channel,
        marketing_spend.source_channel,
        marketing_spend.campaign_id,
        marketing_spend.campaign_name
),

keyed as (
    select
        aggregated.*,
        md5(
            concat_ws(
                '|',
                aggregated.spend_source,
                cast(aggregated.spend_date as string),
                aggregated.channel,
                coalesce(aggregated.source_channel, ''),
                coalesce(aggregated.campaign_id, ''),
                coalesce(aggregated.campaign_name, '')
            )
        ) as spend_key
    from aggregated
),

final as (
    select
        keyed.spend_key,
        keyed.spend_source,
        keyed.spend_date,
        keyed.channel,
        keyed.source_channel,
        keyed.campaign_id,
        keyed.campaign_name,
        keyed.spend,
        keyed.impressions,
        keyed.clicks
    from keyed
)

select * from final
