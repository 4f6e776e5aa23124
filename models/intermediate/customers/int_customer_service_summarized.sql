{#- Customer service and feedback per customer as of as_of_date: one row per customer with >= 1
    support ticket or feedback answer. -#}
with

support_tickets as (
    select * from {{ ref('int_support_tickets_attributed') }}
),

feedback as (
    select * from {{ ref('int_feedback_attributed') }}
),

ticket_ranked as (
    select
        support_tickets.customer_key,
        support_tickets.csat_score,
        support_tickets.opened_at,
        support_tickets.resolved_at,
        row_number() over (
            partition by support_tickets.customer_key
            order by
                case when support_tickets.csat_score is null then 1 else 0 end asc,
                support_tickets.opened_at desc,
                support_tickets.ticket_id desc
        ) as csat_rank
    from support_tickets
    where support_tickets.customer_key is not null
),

ticket_summary as (
    select
        ticket_ranked.customer_key,
        count(*) as ticket_count,
        max(case when ticket_ranked.csat_rank = 1 then ticket_ranked.csat_score end) as last_csat_score,
        -- docs/kpis.md negative experience: a CSAT <= 2 (dated by resolved_at, else opened_at) in the
        -- 180 days up to as_of_date
        coalesce(bool_or(
            ticket_ranked.csat_score <= 2
            and cast(coalesce(ticket_ranked.resolved_at, ticket_ranked.opened_at) as date) <= {{ as_of_date() }}
            and {{ dbt.datediff(
                'cast(coalesce(ticket_ranked.resolved_at, ticket_ranked.opened_at) as date)',
                as_of_date(),
                'day',
            ) }} <= 180
        ), false) as has_recent_low_csat
    from ticket_ranked
    group by ticket_ranked.customer_key
),

feedback_ranked as (
    select
        feedback.customer_key,
        feedback.feedback_type,
        feedback.score,
        feedback.submitted_date,
        row_number() over (
            partition by feedback.customer_key, feedback.feedback_type
            order by feedback.submitted_at desc, feedback.feedback_id desc
        ) as recency_rank
    from feedback
    where feedback.customer_key is not null
),

feedback_summary as (
    select
        feedback_ranked.customer_key,
        max(
            case
                when feedback_ranked.feedback_type = 'nps' and feedback_ranked.recency_rank = 1
                    then feedback_ranked.score
            end
        ) as last_nps_score,
        avg(case when feedback_ranked.feedback_type = 'review' then cast(feedback_ranked.score as double) end)
            as review_average_score,
        count(case when feedback_ranked.feedback_type = 'review' then 1 end) as review_count,
        -- advocacy: an NPS 9-10 or a review >= 4, at any time up to as_of_date
        coalesce(bool_or(
            (feedback_ranked.feedback_type = 'nps' and {{ is_nps_promoter('feedback_ranked.score') }})
            or (feedback_ranked.feedback_type = 'review' and feedback_ranked.score >= 4)
        ), false) as is_promoter,
        -- docs/kpis.md negative experience: NPS <= 6 or review <= 2 in the last 180 days
        coalesce(bool_or(
            {{ dbt.datediff('feedback_ranked.submitted_date', as_of_date(), 'day') }} <= 180
            and (
                (feedback_ranked.feedback_type = 'nps' and feedback_ranked.score <= 6)
                or (feedback_ranked.feedback_type = 'review' and feedback_ranked.score <= 2)
            )
        ), false) as has_recent_low_feedback
    from feedback_ranked
    group by feedback_ranked.customer_key
),

final as (
    -- column order is the documented layout, not ST06's
    select  -- noqa: ST06
        coalesce(ticket_summary.customer_key, feedback_summary.customer_key) as customer_key,
        coalesce(ticket_summary.ticket_count, 0) as ticket_count,
        ticket_summary.last_csat_score,
        feedback_summary.last_nps_score,
        feedback_summary.review_average_score,
        coalesce(feedback_summary.review_count, 0) as review_count,
        coalesce(feedback_summary.is_promoter, false) as is_promoter,
        (
            coalesce(ticket_summary.has_recent_low_csat, false)
            or coalesce(feedback_summary.has_recent_low_feedback, false)
        ) as is_negative_experience
    from ticket_summary
    full outer join feedback_summary on ticket_summary.customer_key = feedback_summary.customer_key
)

select * from final
