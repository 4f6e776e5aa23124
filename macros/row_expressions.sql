{#- Small row-level expressions used across models (docs/design.md: macros hold row expressions,
    never a whole KPI). Engine-specific syntax goes behind adapter.dispatch so the project can
    run on Spark later. -#}

{#- docs/landing-contract.md, Identity: emails are compared trimmed and lower-cased. -#}
{% macro normalize_email(column) -%}
    nullif(lower(trim({{ column }})), '')
{%- endmacro %}

{#- docs/landing-contract.md: an invalid email (no @, no domain) never links anything. Takes a normalised
    email. Valid = one @, something before it, a dot-separated domain after it, no spaces. -#}
{% macro is_valid_email(normalized_column) -%}
    {{ return(adapter.dispatch('is_valid_email')(normalized_column)) }}
{%- endmacro %}

{% macro default__is_valid_email(normalized_column) -%}
    coalesce(regexp_matches({{ normalized_column }}, '^[^@\s]+@[^@\s]+\.[^@\s]+$'), false)
{%- endmacro %}

{% macro spark__is_valid_email(normalized_column) -%}
    coalesce({{ normalized_column }} rlike '^[^@\\s]+@[^@\\s]+\\.[^@\\s]+$', false)
{%- endmacro %}

{#- docs/landing-contract.md: timestamps are ISO 8601; with an offset they are converted to UTC, without one
    they are taken as UTC. Returns a timestamp without time zone, in UTC (the session runs in
    UTC, see profiles.yml). NULL when the text does not parse (the loader rejects such rows). -#}
{% macro parse_timestamp_utc(column) -%}
    {{ return(adapter.dispatch('parse_timestamp_utc')(column)) }}
{%- endmacro %}

{% macro default__parse_timestamp_utc(column) -%}
    cast(try_cast({{ column }} as timestamptz) as timestamp)
{%- endmacro %}

{#- Spark: try_to_timestamp, not to_timestamp, which under ANSI mode (on, see docs/spark.md)
    fails the whole query on one unparsable or empty text instead of giving NULL. -#}
{% macro spark__parse_timestamp_utc(column) -%}
    to_utc_timestamp(try_to_timestamp({{ column }}), 'UTC')
{%- endmacro %}

{#- docs/landing-contract.md: booleans are true/false, 1/0, yes/no in any case. -#}
{% macro parse_boolean(column) -%}
    case
        when lower(trim({{ column }})) in ('true', '1', 'yes', 't', 'y') then true
        when lower(trim({{ column }})) in ('false', '0', 'no', 'f', 'n') then false
    end
{%- endmacro %}

{#- Money as exact decimals; every amount in the landing files goes through this. -#}
{% macro parse_money(column) -%}
    {{ dbt.safe_cast(column, 'decimal(18, 4)') }}
{%- endmacro %}

{#- Ratios: NULL when the denominator is 0 or NULL (documented on each KPI column), never an
    error and never a made-up 0. -#}
{% macro safe_divide(numerator, denominator) -%}
    (cast({{ numerator }} as double) / nullif(cast({{ denominator }} as double), 0))
{%- endmacro %}
