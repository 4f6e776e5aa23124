"""Small hand-made warehouses for the quality tests (no dbt, no landing data).

Shops are built delivery by delivery: each delivery is one orders file and one order-lines file
with its own load id, as the loader stamps them (``_load_id``, ``_file_name``).
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from pathlib import Path

import duckdb

STAGING_DDL = """
create schema if not exists staging;
create table if not exists staging.stg_shop__orders (
    order_id varchar, currency varchar, subtotal double, is_quarantined boolean,
    _load_id bigint, _file_name varchar
);
create table if not exists staging.stg_shop__order_lines (
    order_line_id varchar, order_id varchar, sku varchar, quantity integer, unit_price double,
    is_quarantined boolean, _load_id bigint, _file_name varchar
);
create table if not exists staging.stg_row_accounting (
    source varchar, table_name varchar, raw_rows bigint, staged_rows bigint,
    duplicates_removed bigint, quarantined_rows bigint, is_balanced boolean
);
"""


@dataclass(frozen=True)
class Shop:
    """A catalogue: sku -> unit price in the shop's unit (dollars)."""

    prices: dict[str, float]
    currency: str = "USD"

    @classmethod
    def priced(cls, low: float, high: float, products: int = 12, seed: int = 1) -> Shop:
        rng = random.Random(seed)
        return cls({f"SKU-{i:03d}": round(rng.uniform(low, high), 2) for i in range(products)})


def add_delivery(
    path: Path,
    shop: Shop,
    *,
    load_id: int,
    orders: int = 30,
    scale: float = 1.0,
    price_noise: float = 0.0,
    seed: int = 0,
) -> str:
    """Append one delivery (orders file + lines file) to the staging tables; returns its
    lines file name. ``scale`` multiplies every amount (100 = exported in cents);
    ``price_noise`` moves each price by up to that fraction (ordinary price changes)."""
    rng = random.Random(seed or load_id)
    orders_file = f"shop/orders_{load_id:03d}.csv"
    lines_file = f"shop/order_lines_{load_id:03d}.csv"
    order_rows, line_rows = [], []
    skus = sorted(shop.prices)
    for number in range(orders):
        order_id = f"L{load_id}-O{number}"
        subtotal = 0.0
        for line in range(rng.randint(1, 3)):
            sku = rng.choice(skus)
            quantity = rng.randint(1, 2)
            price = shop.prices[sku] * (1 + rng.uniform(-price_noise, price_noise)) * scale
            price = round(price, 2)
            subtotal += price * quantity
            line_rows.append(
                (f"{order_id}-{line}", order_id, sku, quantity, price, False, load_id, lines_file)
            )
        order_rows.append(
            (order_id, shop.currency, round(subtotal, 2), False, load_id, orders_file)
        )
    con = duckdb.connect(str(path))
    try:
        con.execute(STAGING_DDL)
        con.executemany(
            "insert into staging.stg_shop__orders values (?, ?, ?, ?, ?, ?)", order_rows
        )
        con.executemany(
            "insert into staging.stg_shop__order_lines values (?, ?, ?, ?, ?, ?, ?, ?)", line_rows
        )
    finally:
        con.close()
    return lines_file


def build_operations_warehouse(path: Path) -> Path:
    """The tables the operations and reconciliation suites read, all passing."""
    con = duckdb.connect(str(path))
    con.execute(STAGING_DDL)
    con.execute(
        """
        create schema raw; create schema marts; create schema intermediate;
        create table raw.shop__orders as select 'o' || i as order_id from range(40) as r(i);
        create table raw.shop__order_lines as select 'l' || i as order_line_id from range(40) as r(i);
        create table marts.fct_orders as
            select
                'o' || i as order_id,
                date '2026-01-01' + cast(i % 10 as integer) as order_date,
                true as is_valid_order,
                cast(50 as double) as net_revenue
            from range(40) as r(i);
        create table marts.fct_order_lines as select 'l' || i as order_line_id from range(40) as r(i);
        create table marts.dim_customers as select 'c' || i as customer_key from range(10) as r(i);
        create table marts.email_campaign_performance as
            select 'c1' as campaign_id, 100 as delivered, 40 as opened;
        create table intermediate.int_as_of_date as select date '2026-01-10' as as_of_date;
        insert into staging.stg_row_accounting values ('shop', 'orders', 40, 40, 0, 0, true);
        """
    )
    con.close()
    return path
