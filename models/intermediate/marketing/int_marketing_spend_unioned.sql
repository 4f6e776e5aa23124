{#- docs/kpis.md: marketing spend = ad spend plus email/SMS campaign cost, in the reporting
    currency. One row per ad-spend row (dated by spend_date, channel mapped through seed
    channel_mapping) and per campaign (dated by sent_at, channel email or sms), as of
    as_of_date. kpi_monthly, kpi_by_channel and email_campaign_performance all read spend here. -#}
with

ad_spend as (
    select * from {{ ref('stg_marketing__ad_spend') }}
    where not is_quarantined
),

campaigns as (
    select * from {{ ref('stg_email__campaigns') }}
    where not is_quarantined
),

channel_mapping as (
    select * from {{ ref('channel_mapping') }}
),

ad_spend_rows as (
    select
        'ad_spend' as spend_source,
        cast(ad_spend.spend_date as date) as spend_date,
        coalesce(channel_mapping.channel, 'unknown') as channel,
        ad_spend.channel as source_channel,
        cast(null as string) as campaign_id,
        ad_spend.campaign as campaign_name,
        {{ to_reporting_currency('ad_spend.spend', 'ad_spend.currency', 'ad_spend.spend_date') }}
            as spend,
        ad_spend.impressions,
        ad_spend.clicks
    from ad_spend
    left join channel_mapping
        on channel_mapping.source_value = {{ channel_source_value('ad_spend.channel') }}
    where ad_spend.spend_date <= {{ as_of_date() }}
),

campaign_rows as (
    select
        'email_campaign' as spend_source,
        cast(campaigns.sent_at as date) as spend_date,
        -- the platform sends email and SMS; a campaign without a channel is email
        coalesce(campaigns.channel, 'email') as channel,
        campaigns.channel as source_channel,
        campaigns.campaign_id,
        campaigns.campaign_name,
        -- a cost without a currency is taken as already in the reporting currency
        coalesce(
            {{ to_reporting_currency(
                'campaigns.cost',
                "coalesce(campaigns.currency, '" ~ (var('reporting_currency') | trim | upper) ~ "')",
                'campaigns.sent_at',
            ) }},
            0
        ) as spend,
        cast(null as bigint) as impressions,
        cast(null as bigint) as clicks
    from campaigns
    where cast(campaigns.sent_at as date) <= {{ as_of_date() }}
),

unioned as (
    select * from ad_spend_rows
    union all
    select * from campaign_rows
)

select * from unioned
