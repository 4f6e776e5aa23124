{#- Row expressions of the staging layer (docs/design.md, "Staging"). -#}

{#- Ids and free text: trimmed, empty = NULL. -#}
{% macro clean_text(column) -%}
    nullif(trim({{ column }}), '')
{%- endmacro %}

{#- Values from a contract list of accepted values (statuses, types, channels): compared
    trimmed and lower-cased, so `Paid ` is `paid`. -#}
{% macro clean_code(column) -%}
    nullif(lower(trim({{ column }})), '')
{%- endmacro %}

{#- ISO 4217 / ISO 3166 codes: trimmed and upper-cased. -#}
{% macro clean_iso_code(column) -%}
    nullif(upper(trim({{ column }})), '')
{%- endmacro %}

{% macro parse_integer(column) -%}
    {{ dbt.safe_cast(column, dbt.type_bigint()) }}
{%- endmacro %}

{% macro parse_date(column) -%}
    {{ dbt.safe_cast(column, 'date') }}
{%- endmacro %}

{#- "In the future" means after the start of this dbt invocation (UTC), not after the moment a
    view is queried: one build judges every row against the same instant. Incremental models
    keep the verdict made when a row was processed. -#}
{% macro build_started_at() -%}
    cast('{{ run_started_at.strftime("%Y-%m-%d %H:%M:%S") }}' as {{ dbt.type_timestamp() }})
{%- endmacro %}

{#- The quarantine reason of a row: every reason whose condition holds, joined with '; ' in the
    order given, NULL when none holds. `rules` is a list of (condition SQL, reason text). A
    condition that is NULL does not count as broken. -#}
{% macro quarantine_reason(rules) -%}
    nullif(concat_ws(
        '; '
        {%- for condition, reason in rules %},
        case when {{ condition }} then '{{ reason }}' end
        {%- endfor %}
    ), '')
{%- endmacro %}

{#- A currency the seed `currency_rates` knows. A lookup in a seed, written as a subquery, not a
    join: staging stays one row of one table (docs/design.md), and money is converted only downstream
    with to_reporting_currency(). NULL currency is not "unknown" (some tables allow it). -#}
{% macro is_known_currency(column) -%}
    ({{ column }} is null or {{ column }} in (
        select known_currencies.currency from {{ ref('currency_rates') }} as known_currencies
    ))
{%- endmacro %}

{#- Text of a row's primary key, for the quarantine list and row accounting: the values joined
    with '|', a NULL part written as '∅' (ad_spend's optional `campaign`). -#}
{% macro primary_key_text(columns) -%}
    {%- if columns | length == 1 -%}
        coalesce(cast({{ columns[0] }} as {{ dbt.type_string() }}), '∅')
    {%- else -%}
        {%- set parts = [] -%}
        {%- for column in columns -%}
            {%- do parts.append("coalesce(cast(" ~ column ~ " as " ~ dbt.type_string() ~ "), '∅')") -%}
            {%- if not loop.last %}{% do parts.append("'|'") %}{% endif -%}
        {%- endfor -%}
        {{ dbt.concat(parts) }}
    {%- endif -%}
{%- endmacro %}

{#- The staged landing tables and their primary keys (staging names), for the models that go over
    all of them (stg_quarantine, stg_row_accounting). A pytest test checks this list against
    orchestration/landing_contract.yml. -#}
{% macro staging_tables() -%}
    {{ return([
        {'source': 'crm', 'table': 'contacts', 'model': 'stg_crm__contacts', 'primary_key': ['crm_contact_id'], 'raw_primary_key': [clean_text('contact_id')]},
        {'source': 'crm', 'table': 'support_tickets', 'model': 'stg_crm__support_tickets', 'primary_key': ['ticket_id'], 'raw_primary_key': [clean_text('ticket_id')]},
        {'source': 'crm', 'table': 'feedback', 'model': 'stg_crm__feedback', 'primary_key': ['feedback_id'], 'raw_primary_key': [clean_text('feedback_id')]},
        {'source': 'email', 'table': 'campaigns', 'model': 'stg_email__campaigns', 'primary_key': ['campaign_id'], 'raw_primary_key': [clean_text('campaign_id')]},
        {'source': 'email', 'table': 'events', 'model': 'stg_email__events', 'primary_key': ['event_id'], 'raw_primary_key': [clean_text('event_id')]},
        {'source': 'subscriptions', 'table': 'subscriptions', 'model': 'stg_subscriptions__subscriptions', 'primary_key': ['subscription_id'], 'raw_primary_key': [clean_text('subscription_id')]},
        {'source': 'shop', 'table': 'customers', 'model': 'stg_shop__customers', 'primary_key': ['shop_customer_id'], 'raw_primary_key': [clean_text('shop_customer_id')]},
        {'source': 'shop', 'table': 'orders', 'model': 'stg_shop__orders', 'primary_key': ['order_id'], 'raw_primary_key': [clean_text('order_id')]},
        {'source': 'shop', 'table': 'order_lines', 'model': 'stg_shop__order_lines', 'primary_key': ['order_line_id'], 'raw_primary_key': [clean_text('order_line_id')]},
        {'source': 'shop', 'table': 'refunds', 'model': 'stg_shop__refunds', 'primary_key': ['refund_id'], 'raw_primary_key': [clean_text('refund_id')]},
        {'source': 'shop', 'table': 'checkouts', 'model': 'stg_shop__checkouts', 'primary_key': ['checkout_id'], 'raw_primary_key': [clean_text('checkout_id')]},
        {'source': 'marketing', 'table': 'ad_spend', 'model': 'stg_marketing__ad_spend', 'primary_key': ['spend_date', 'channel', 'campaign'], 'raw_primary_key': [parse_date('spend_date'), clean_text('channel'), clean_text('campaign')]},
        {'source': 'marketing', 'table': 'social_stats', 'model': 'stg_marketing__social_stats', 'primary_key': ['stat_date', 'platform'], 'raw_primary_key': [parse_date('stat_date'), clean_text('platform')]},
    ]) }}
{%- endmacro %}

{#- docs/landing-contract.md: an invalid email never links anything, yet a record that carries its own person
    id (CRM contact, shop customer, billing customer) is still a person. Staging quarantines rows
    whose identifying email is invalid; identity and the customer marts keep such a row when the
    invalid email is its only flaw. The reason text and that rule live here, once. -#}
{% macro invalid_email_reason() -%}invalid email{%- endmacro %}

{% macro is_clean_or_only_invalid_email() -%}
    (not is_quarantined or quarantine_reason = '{{ invalid_email_reason() }}')
{%- endmacro %}

{#- Plausibility (docs/staging-rules.md): a text value longer than CLM_MAX_TEXT_LENGTH characters
    (default 4000) is not a name, an id or a comment but broken input (a runaway quote, a
    binary blob): the row is quarantined with reason text_too_long_reason(), never published. -#}
{% macro max_text_length() -%}
    {%- set value = env_var('CLM_MAX_TEXT_LENGTH', '4000') | trim -%}
    {%- if not value.isdigit() or value | int < 1 -%}
        {{ exceptions.raise_compiler_error(
            "CLM_MAX_TEXT_LENGTH must be a positive whole number of characters, not '" ~ value ~ "'"
        ) }}
    {%- endif -%}
    {{ return(value | int) }}
{%- endmacro %}

{% macro text_too_long_reason() -%}text longer than {{ max_text_length() }} characters{%- endmacro %}

{#- True when any of `columns` (text) is longer than max_text_length(); NULLs are fine. -#}
{#- One column needs no greatest() (Spark's takes two or more arguments). -#}
{% macro is_any_text_too_long(columns) -%}
    {%- if columns | length == 1 -%}
    (coalesce(length({{ columns[0] }}), 0) > {{ max_text_length() }})
    {%- else -%}
    (coalesce(greatest(
        {%- for column in columns %}
        length({{ column }}){% if not loop.last %},{% endif %}
        {%- endfor %}
    ), 0) > {{ max_text_length() }})
    {%- endif -%}
{%- endmacro %}
