{{
    config(
        materialized=keyed_incremental_materialization(),
        unique_key='order_line_id',
        incremental_strategy='delete+insert',
        on_schema_change='fail',
    )
}}
with

source as (
    select * from {{ source('shop', 'order_lines') }}
    {{ only_new_loads() }}
),

renamed as (
    select
        -- ids
        {{ clean_text('order_line_id') }} as order_line_id,
        {{ clean_text('order_id') }} as order_id,
        -- attributes
        {{ clean_text('sku') }} as sku,
        {{ clean_text('product_name') }} as product_name,
        {{ clean_text('category') }} as category,
        {{ parse_integer('quantity') }} as quantity,
        -- money
        {{ parse_money('unit_price') }} as unit_price,
        {{ parse_money('line_discount') }} as line_discount,
        -- load metadata
        _load_id,
        _file_name,
        _line_number,
        _loaded_at
    from source
),

flagged as (
    select
        renamed.*,
        {{ quarantine_reason([
            ("order_line_id is null", 'missing key'),
            ("quantity < 0", 'negative quantity'),
            ("unit_price < 0", 'negative unit_price'),
            ("line_discount < 0", 'negative line_discount'),
            (is_any_text_too_long(['order_line_id', 'order_id', 'sku', 'product_name', 'category']), text_too_long_reason()),
        ]) }} as quarantine_reason
    from renamed
),

quarantined as (
    select
        flagged.*,
        flagged.quarantine_reason is not null as is_quarantined
    from flagged
),

{% if is_incremental() %}
candidates as (
    select * from quarantined
    union all
    -- the stored version of every key that arrived again: a newer version may replace it,
    -- an older one arriving late must not
    select * from {{ this }} as stored
    where stored.order_line_id in (select quarantined.order_line_id from quarantined)
),
{% else %}
candidates as (
    select * from quarantined
),
{% endif %}

-- no version column: later load, then later line (docs/landing-contract.md)
latest as (
    {{ latest_version('candidates', ['order_line_id']) }}
),

final as (
    select * from latest
    -- keys whose stored version still wins are left as they are
    {{ only_new_loads() }}
)

select * from final
