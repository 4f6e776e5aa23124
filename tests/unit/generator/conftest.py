"""Shared xs data sets for the generator tests (generated once per session: keeps tests fast)."""

from __future__ import annotations

import pytest

from tools.generator import GenerationReport, generate


@pytest.fixture(scope="session")
def clean(tmp_path_factory: pytest.TempPathFactory) -> GenerationReport:
    """The xs data set for seed 42, clean."""
    return generate(tmp_path_factory.mktemp("clean"), "xs", seed=42, progress=lambda _: None)


@pytest.fixture(scope="session")
def clean_again(tmp_path_factory: pytest.TempPathFactory) -> GenerationReport:
    """The same data set generated a second time, elsewhere."""
    return generate(tmp_path_factory.mktemp("again"), "xs", seed=42, progress=lambda _: None)


@pytest.fixture(scope="session")
def dirty(tmp_path_factory: pytest.TempPathFactory) -> GenerationReport:
    """The xs data set for seed 43 with the bad input of docs/landing-contract.md."""
    return generate(
        tmp_path_factory.mktemp("dirty"), "xs", seed=43, dirty=True, progress=lambda _: None
    )
