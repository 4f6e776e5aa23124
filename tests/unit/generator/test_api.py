"""The public API: scales, ensure_sample_data, argument checks."""

from __future__ import annotations

from pathlib import Path

import pytest

import tools.generator as generator


def test_scales_grow() -> None:
    sizes = [generator.SCALES[name].people for name in ("xs", "s", "m", "l")]
    assert sizes == sorted(sizes) and sizes[0] == 1_000 and sizes[-1] == 1_000_000


def test_unknown_scale_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="unknown scale"):
        generator.generate(tmp_path, scale="xxl")


def test_ensure_sample_data_generates_only_into_an_empty_landing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[tuple] = []
    monkeypatch.setattr(
        generator, "generate", lambda out, **kwargs: calls.append((out, kwargs["scale"]))
    )
    landing = tmp_path / "landing"
    assert generator.ensure_sample_data(landing, "xs", 1, lambda _: None) is True
    assert calls == [(landing, "xs")]

    (landing / "shop" / "orders").mkdir(parents=True)
    (landing / "shop" / "orders" / "o.jsonl").write_text("{}\n")
    assert generator.ensure_sample_data(landing, "xs", 1, lambda _: None) is False
    assert len(calls) == 1


def test_report_lists_currencies_months_and_channel_spellings(
    clean: generator.GenerationReport,
) -> None:
    manifest = clean.manifest()
    assert manifest["months"] == ["2023-07", "2025-12"]
    assert {"USD", "EUR", "GBP", "CAD"} <= set(manifest["currencies"])
    assert {"utm_source", "acquisition_channel", "ad_channel"} == set(manifest["channel_spellings"])
    assert sum(manifest["rows_by_table"].values()) == sum(f["rows"] for f in manifest["files"])
