{#- docs/landing-contract.md bad input: "events for an unknown campaign". Every clean staged email event, with
    whether its campaign exists among the clean staged campaigns; failures are kept, reach the
    quarantine through int_reference_violations and stay out of fct_email_events. -#}

with

email_events as (
    select * from {{ ref('stg_email__events') }}
    where not is_quarantined
),

campaigns as (
    select * from {{ ref('stg_email__campaigns') }}
),

checked as (
    select
        email_events.*,
        case
            {{ reference_issue_branches('campaign_id', 'campaigns', 'campaign_id', 'campaign') }}
        end as reference_issue
    from email_events
    left join campaigns on email_events.campaign_id = campaigns.campaign_id
),

final as (
    select
        checked.*,
        checked.reference_issue is null as is_reference_valid
    from checked
)

select * from final
