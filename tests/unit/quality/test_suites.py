"""The GE project in the repository is exactly what the rules produce, and holds no structure."""

from __future__ import annotations

from orchestration.quality.project import gx_dir
from orchestration.quality.rules import RULES, SUITES
from orchestration.quality.suites import GENERATED_FOLDERS, rendered_files


def test_committed_files_are_the_rendered_rules() -> None:
    gx = gx_dir()
    files = rendered_files()
    for relative, text in files.items():
        path = gx / relative
        assert path.exists(), f"{relative} missing: run python -m orchestration.quality.suites"
        assert path.read_text(encoding="utf-8") == text, (
            f"{relative} differs from the rules: run python -m orchestration.quality.suites"
        )
    committed = {
        f"{folder}/{path.name}" for folder in GENERATED_FOLDERS for path in (gx / folder).glob("*")
    }
    assert committed <= set(files), f"stale files: {sorted(committed - set(files))}"


def test_a_handful_of_suites_with_unique_keys_and_no_structural_rules() -> None:
    assert 1 <= len(SUITES) <= 6
    keys = [rule.key for rule in RULES]
    assert len(keys) == len(set(keys))
    assert {rule.suite for rule in RULES} == {suite.name for suite in SUITES}
    structural = ("not_null", "unique", "accepted_values", "relationships")
    assert not [key for key in keys if key.split(":")[0] in structural or "dbt:" in key]
    for suite in SUITES:
        assert suite.relation in suite.reads
