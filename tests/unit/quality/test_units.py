"""Money in the wrong unit, judged against the shop's own history (real GE on DuckDB).

Two shops: one of cheap products (5-30 a unit), where a delivery in cents stays under the
absolute ceilings, and one of expensive products (2,000-4,000), where ordinary price changes
must not look like a unit jump.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from orchestration.quality import validate_suite

from .fixtures import Shop, add_delivery

CHEAP = Shop.priced(5, 30)
EXPENSIVE = Shop.priced(2000, 4000, seed=2)
JUMPS = {"units:unit_price_jump", "units:order_value_jump"}


def _failed(warehouse: Path, project: Path) -> dict[str, list]:
    result = validate_suite("units", warehouse, project=project, record=False)
    assert result.error is None, result.error
    return {o.rule: o for o in result.outcomes if not o.success}


@pytest.fixture()
def warehouse(tmp_path: Path) -> Path:
    return tmp_path / "shop.duckdb"


def test_cheap_shop_delivery_in_cents_fails_blocking_naming_file_and_factor(
    warehouse: Path, project: Path
) -> None:
    for load_id in (1, 2, 3):
        add_delivery(warehouse, CHEAP, load_id=load_id, price_noise=0.1)
    cents_file = add_delivery(warehouse, CHEAP, load_id=4, scale=100, price_noise=0.1)

    failed = _failed(warehouse, project)
    # The absolute ceilings do not see it: 15-dollar products are 1,500 in cents.
    assert set(failed) == JUMPS
    assert all(o.severity == "blocking" for o in failed.values())
    (unit_sample,) = failed["units:unit_price_jump"].sample_values
    assert unit_sample["file_name"] == cents_file
    assert unit_sample["factor"] == pytest.approx(100, rel=0.15)
    (order_sample,) = failed["units:order_value_jump"].sample_values
    assert order_sample["file_name"] == "shop/orders_004.csv"
    assert order_sample["factor"] == pytest.approx(100, rel=0.5)


def test_cheap_shop_ordinary_price_changes_pass(warehouse: Path, project: Path) -> None:
    for load_id in (1, 2, 3):
        add_delivery(warehouse, CHEAP, load_id=load_id, price_noise=0.1)
    add_delivery(warehouse, Shop({k: v * 2.5 for k, v in CHEAP.prices.items()}), load_id=4)
    add_delivery(warehouse, Shop({k: v * 0.4 for k, v in CHEAP.prices.items()}), load_id=5)
    assert _failed(warehouse, project) == {}


def test_expensive_shop_jump_is_caught_and_ordinary_variation_is_not(
    warehouse: Path, project: Path
) -> None:
    for load_id in (1, 2):
        add_delivery(warehouse, EXPENSIVE, load_id=load_id, orders=20, price_noise=0.2)
    assert _failed(warehouse, project) == {}

    cents_file = add_delivery(warehouse, EXPENSIVE, load_id=3, orders=20, scale=100)
    failed = _failed(warehouse, project)
    assert set(failed) >= JUMPS
    assert failed["units:unit_price_jump"].sample_values[0]["file_name"] == cents_file
    # Here the absolute ceilings fire too, as warnings.
    assert failed["range:unit_price_max"].severity == "warning"


def test_first_delivery_falls_back_to_the_absolute_ceilings(warehouse: Path, project: Path) -> None:
    add_delivery(warehouse, EXPENSIVE, load_id=1, orders=20, scale=100)
    failed = _failed(warehouse, project)
    assert set(failed) == {"range:unit_price_max", "range:order_subtotal_max"}
    assert {o.severity for o in failed.values()} == {"warning"}


def test_a_delivery_back_in_dollars_after_cents_history_is_caught_too(
    warehouse: Path, project: Path
) -> None:
    for load_id in (1, 2):
        add_delivery(warehouse, CHEAP, load_id=load_id, scale=100)
    add_delivery(warehouse, CHEAP, load_id=3)
    failed = _failed(warehouse, project)
    assert failed["units:unit_price_jump"].sample_values[0]["factor"] == pytest.approx(
        0.01, rel=0.15
    )
