{#- Moves between segment states, per month: one row per month x dimension x from_state x
    to_state with >= 1 move. A move is a customer whose state in customer_segment_history differs
    between two consecutive recorded as_of_dates; it counts in the month of the later date.
    Dimensions: lifecycle_stage, activity_status, value_tier, rfm_segment, primary_segment. A
    customer absent from the earlier date (new since) moves from 'none'; a NULL state (no valid
    order) is 'none' too. -#}
with

history as (
    select * from {{ ref('customer_segment_history') }}
),

recorded_dates as (
    select distinct history.as_of_date from history
),

consecutive_dates as (
    select
        recorded_dates.as_of_date,
        lag(recorded_dates.as_of_date) over (order by recorded_dates.as_of_date) as previous_as_of_date
    from recorded_dates
),

states as (
    {%- set dimensions = ['lifecycle_stage', 'activity_status', 'value_tier', 'rfm_segment', 'primary_segment'] %}
    {%- for dimension in dimensions %}
    select
        history.as_of_date,
        history.customer_key,
        '{{ dimension }}' as dimension,
        coalesce(history.{{ dimension }}, 'none') as state
    from history
    {%- if not loop.last %}
    union all
    {%- endif %}
    {%- endfor %}
),

moves as (
    -- ST06 would reorder this select; columns stay grouped by subject
    select  -- noqa: ST06
        consecutive_dates.as_of_date,
        states.dimension,
        coalesce(previous_states.state, 'none') as from_state,
        states.state as to_state,
        states.customer_key
    from states
    inner join consecutive_dates
        on
            states.as_of_date = consecutive_dates.as_of_date
            and consecutive_dates.previous_as_of_date is not null
    left join states as previous_states
        on
            consecutive_dates.previous_as_of_date = previous_states.as_of_date
            and states.customer_key = previous_states.customer_key
            and states.dimension = previous_states.dimension
    where coalesce(previous_states.state, 'none') != states.state
),

final as (
    select
        {{ month_start('moves.as_of_date') }} as month,
        moves.dimension,
        moves.from_state,
        moves.to_state,
        count(distinct moves.customer_key) as customers,
        (
            moves.dimension = 'activity_status'
            and moves.from_state in ('at_risk', 'inactive')
            and moves.to_state = 'active'
        ) as is_win_back
    from moves
    group by
        {{ month_start('moves.as_of_date') }},
        moves.dimension,
        moves.from_state,
        moves.to_state
)

select * from final
