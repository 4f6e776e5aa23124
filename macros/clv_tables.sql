{#- on-run-start (dbt_project.yml): the tables the Python CLV asset (orchestration/clv) writes,
    created empty when missing, so that `dbt build` works before the first fit
    (docs/design.md, "KPI marts and CLV"). The column lists are that interface. -#}
{% macro create_clv_prediction_tables() -%}
    {%- if execute -%}
        create schema if not exists clv;
        create table if not exists clv.customer_clv_predictions (
            customer_key varchar,
            p_alive double,
            expected_purchases double,
            expected_order_value double,
            predicted_clv double,
            churn_probability double,
            expected_next_order_date date
        );
        create schema if not exists marts;
        create table if not exists marts.customer_clv_model (
            fitted_at timestamp,
            as_of_date date,
            time_unit varchar,
            r double,
            alpha double,
            a double,
            b double,
            p double,
            q double,
            gamma double,
            customers bigint,
            log_likelihood double,
            converged boolean,
            mbgnbd_r double,
            mbgnbd_alpha double,
            mbgnbd_a double,
            mbgnbd_b double,
            mbgnbd_log_likelihood double,
            model_repeat_buyers varchar,
            model_one_time_buyers varchar,
            holdout_weeks integer,
            reason varchar
        );
    {%- endif -%}
{%- endmacro %}
