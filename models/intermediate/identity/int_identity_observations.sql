{#- Every distinct sighting of a person identifier in the staged sources (one row per source
    table, identifier and linked identifier, with the first time and the number of records), with
    the identifier it is linked to (docs/landing-contract.md, "Identity"): a CRM contact's email and secondary_email; a shop customer's
    email and the emails on that customer's orders and checkouts; a billing customer's
    subscriptions' emails. Guest orders, email recipients and tickets or feedback without a known
    contact are email sightings with no link. Invalid emails are never sighted, so they link
    nothing; the record is still sighted by its own id (a person of its own).

    Rows read: the clean rows, plus the rows staging quarantined ONLY for their invalid email when
    they carry a person id (contact, shop customer, billing customer): such a record still is a
    person, keyed by that id. Not filtered by as_of_date: keys do not depend on the as-of date.
    Emails are normalised again here (idempotent) so the graph never depends on how a staging
    model spelled them. -#}

with

contacts as (
    select * from {{ ref('stg_crm__contacts') }}
    where {{ is_clean_or_only_invalid_email() }}
),

shop_customers as (
    select * from {{ ref('stg_shop__customers') }}
    where {{ is_clean_or_only_invalid_email() }}
),

orders as (
    select * from {{ ref('stg_shop__orders') }}
    where
        not is_quarantined
        or (quarantine_reason = '{{ invalid_email_reason() }}' and shop_customer_id is not null)
),

checkouts as (
    select * from {{ ref('stg_shop__checkouts') }}
    where not is_quarantined
),

subscriptions as (
    select * from {{ ref('stg_subscriptions__subscriptions') }}
    where
        not is_quarantined
        or (quarantine_reason = '{{ invalid_email_reason() }}' and billing_customer_id is not null)
),

email_events as (
    select * from {{ ref('stg_email__events') }}
    where not is_quarantined
),

support_tickets as (
    select * from {{ ref('stg_crm__support_tickets') }}
    where not is_quarantined
),

feedback as (
    select * from {{ ref('stg_crm__feedback') }}
    where not is_quarantined
),

sightings as (
    -- crm contacts: the contact id, its email, its secondary email
    select
        'crm.contacts' as source_table,
        'crm_contact_id' as identifier_type,
        crm_contact_id as identifier_value,
        cast(null as {{ dbt.type_string() }}) as linked_identifier_type,
        cast(null as {{ dbt.type_string() }}) as linked_identifier_value,
        created_at as observed_at
    from contacts
    where crm_contact_id is not null

    union all

    select
        'crm.contacts' as source_table,
        'email' as identifier_type,
        {{ normalize_email('email') }} as identifier_value,
        'crm_contact_id' as linked_identifier_type,
        crm_contact_id as linked_identifier_value,
        created_at as observed_at
    from contacts
    where crm_contact_id is not null and is_valid_email

    union all

    select
        'crm.contacts' as source_table,
        'email' as identifier_type,
        {{ normalize_email('secondary_email') }} as identifier_value,
        'crm_contact_id' as linked_identifier_type,
        crm_contact_id as linked_identifier_value,
        created_at as observed_at
    from contacts
    where crm_contact_id is not null and is_valid_secondary_email

    union all

    -- shop customers: the customer id and its email
    select
        'shop.customers' as source_table,
        'shop_customer_id' as identifier_type,
        shop_customer_id as identifier_value,
        cast(null as {{ dbt.type_string() }}) as linked_identifier_type,
        cast(null as {{ dbt.type_string() }}) as linked_identifier_value,
        created_at as observed_at
    from shop_customers
    where shop_customer_id is not null

    union all

    select
        'shop.customers' as source_table,
        'email' as identifier_type,
        {{ normalize_email('email') }} as identifier_value,
        'shop_customer_id' as linked_identifier_type,
        shop_customer_id as linked_identifier_value,
        created_at as observed_at
    from shop_customers
    where shop_customer_id is not null and is_valid_email

    union all

    -- orders: the customer id (an order may name a customer the customers export lacks) and
    -- the order's email, linked to the customer; a guest order's email stands alone
    select
        'shop.orders' as source_table,
        'shop_customer_id' as identifier_type,
        shop_customer_id as identifier_value,
        cast(null as {{ dbt.type_string() }}) as linked_identifier_type,
        cast(null as {{ dbt.type_string() }}) as linked_identifier_value,
        ordered_at as observed_at
    from orders
    where shop_customer_id is not null

    union all

    select
        'shop.orders' as source_table,
        'email' as identifier_type,
        {{ normalize_email('email') }} as identifier_value,
        case when shop_customer_id is not null then 'shop_customer_id' end as linked_identifier_type,
        shop_customer_id as linked_identifier_value,
        ordered_at as observed_at
    from orders
    where is_valid_email

    union all

    -- checkouts: like orders
    select
        'shop.checkouts' as source_table,
        'shop_customer_id' as identifier_type,
        shop_customer_id as identifier_value,
        cast(null as {{ dbt.type_string() }}) as linked_identifier_type,
        cast(null as {{ dbt.type_string() }}) as linked_identifier_value,
        created_at as observed_at
    from checkouts
    where shop_customer_id is not null

    union all

    select
        'shop.checkouts' as source_table,
        'email' as identifier_type,
        {{ normalize_email('email') }} as identifier_value,
        case when shop_customer_id is not null then 'shop_customer_id' end as linked_identifier_type,
        shop_customer_id as linked_identifier_value,
        created_at as observed_at
    from checkouts
    where is_valid_email

    union all

    -- subscriptions: the billing customer id and the subscription's email, linked
    select
        'subscriptions.subscriptions' as source_table,
        'billing_customer_id' as identifier_type,
        billing_customer_id as identifier_value,
        cast(null as {{ dbt.type_string() }}) as linked_identifier_type,
        cast(null as {{ dbt.type_string() }}) as linked_identifier_value,
        started_at as observed_at
    from subscriptions
    where billing_customer_id is not null

    union all

    select
        'subscriptions.subscriptions' as source_table,
        'email' as identifier_type,
        {{ normalize_email('email') }} as identifier_value,
        case when billing_customer_id is not null then 'billing_customer_id' end as linked_identifier_type,
        billing_customer_id as linked_identifier_value,
        started_at as observed_at
    from subscriptions
    where is_valid_email

    union all

    -- email recipients
    select
        'email.events' as source_table,
        'email' as identifier_type,
        {{ normalize_email('email') }} as identifier_value,
        cast(null as {{ dbt.type_string() }}) as linked_identifier_type,
        cast(null as {{ dbt.type_string() }}) as linked_identifier_value,
        occurred_at as observed_at
    from email_events
    where is_valid_email

    union all

    -- tickets and feedback belong to their CRM contact when it is known; otherwise their email
    -- stands for the person. docs/landing-contract.md lists no link between a ticket's email and its contact,
    -- so a ticket never links two identifiers.
    select
        'crm.support_tickets' as source_table,
        'email' as identifier_type,
        {{ normalize_email('support_tickets.email') }} as identifier_value,
        cast(null as {{ dbt.type_string() }}) as linked_identifier_type,
        cast(null as {{ dbt.type_string() }}) as linked_identifier_value,
        support_tickets.opened_at as observed_at
    from support_tickets
    left join contacts on support_tickets.crm_contact_id = contacts.crm_contact_id
    where support_tickets.is_valid_email and contacts.crm_contact_id is null

    union all

    select
        'crm.feedback' as source_table,
        'email' as identifier_type,
        {{ normalize_email('feedback.email') }} as identifier_value,
        cast(null as {{ dbt.type_string() }}) as linked_identifier_type,
        cast(null as {{ dbt.type_string() }}) as linked_identifier_value,
        feedback.submitted_at as observed_at
    from feedback
    left join contacts on feedback.crm_contact_id = contacts.crm_contact_id
    where feedback.is_valid_email and contacts.crm_contact_id is null
),

-- one row per distinct sighting: 50 M email events of the l tier become ~1 M rows here
sightings_grouped as (
    select
        source_table,
        identifier_type,
        identifier_value,
        linked_identifier_type,
        linked_identifier_value,
        min(observed_at) as first_observed_at,
        count(*) as record_count
    from sightings
    group by
        source_table,
        identifier_type,
        identifier_value,
        linked_identifier_type,
        linked_identifier_value
)

select * from sightings_grouped
