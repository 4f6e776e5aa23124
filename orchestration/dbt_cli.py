"""Running dbt: the arguments every dbt call gets from the settings, and dbt outside Dagster.

The settings reach dbt as ``--vars`` (the KPI vars, and the warehouse path and DuckDB's memory
limit, which profiles.yml reads), never through the environment: a hand-run ``dbt build`` uses
the defaults declared in dbt_project.yml and profiles.yml, which unit tests keep equal to the
registry's.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import subprocess
import sys
from pathlib import Path

from orchestration.settings import REPO_ROOT, dbt_vars, get_settings
from orchestration.settings import value as settings_value

# dbt's colour codes, kept out of logs and error text.
ANSI_ESCAPE = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


def dbt_executable() -> str:
    """The dbt next to the running Python (the project's venv), else whatever is on PATH."""
    candidate = Path(sys.executable).with_name("dbt")
    return str(candidate) if candidate.exists() else "dbt"


def target_dir() -> Path:
    """dbt's target folder (manifest, partial parse, logs): dbt's own ``DBT_TARGET_PATH`` when
    set (tests give each isolated run its own), else ``target/``."""
    path = Path(os.environ.get("DBT_TARGET_PATH") or "target")
    return path if path.is_absolute() else REPO_ROOT / path


def run_target_dirs(run_id: str) -> list[Path]:
    """The target folders of one pipeline run's dbt invocations, oldest name first: each dbt
    step (dbt_in_process.build; dagster-dbt's dbt process on Spark) gets a folder of its own
    under ``target_dir()``, named after its step and the first seven characters of the run's id
    (each holds that invocation's run_results.json).
    """
    return sorted(target_dir().glob(f"*-{run_id[:7]}-*"))


def vars_argument() -> list[str]:
    """``--vars`` for every dbt call: the KPI settings and the warehouse path, validated.

    Parse and build get the same vars, so the build reuses the parse (dbt's partial parsing
    re-parses everything when the vars change). With ``CLM_ENGINE=spark`` it starts with
    ``--target spark`` and the vars carry the Spark configuration (docs/spark.md): every dbt
    call (``run_dbt``, the Dagster dbt assets, the manifest's parse) goes through here.
    """
    values = {
        **dbt_vars(),
        "clm_duckdb_path": str(get_settings().duckdb_path),
        # profiles.yml's DuckDB memory_limit (its spill folder follows from the path).
        "clm_duckdb_memory_limit": settings_value("CLM_DUCKDB_MEMORY_LIMIT"),
    }
    target: list[str] = []
    if settings_value("CLM_ENGINE") == "spark":
        from orchestration.engines import spark  # no pyspark import: configuration only

        values.update(spark.dbt_vars())
        target = ["--target", "spark"]
    return [*target, "--vars", json.dumps(values, sort_keys=True)]


def unit_test_exclusion() -> list[str]:
    """What every `dbt build` of a run or a command adds: ``--exclude-resource-type unit_test``
    unless CLM_RUN_UNIT_TESTS. Unit tests check the models' logic on fixed inputs, not the data:
    CI runs them on every change (`make test`), as dbt's docs advise; runs skip them.

    With ``tag:<name>`` the build keeps the unit tests with that tag and excludes the others by
    name, read from the manifest: dbt's selection has no "not tagged". One ``--exclude`` each,
    so that dagster-dbt, which folds a run's ``--exclude`` values into a selector file when it
    selects many nodes, gets one selection per value.
    """
    selected = settings_value("CLM_RUN_UNIT_TESTS")
    if selected is False:
        return ["--exclude-resource-type", "unit_test"]
    if selected is True:
        return []
    # The run's own manifest (Dagster's dbt assets are defined from it); parsed only if missing.
    manifest = target_dir() / "manifest.json"
    if not manifest.exists():
        manifest = prepare_manifest()
    unit_tests = list(json.loads(manifest.read_text(encoding="utf-8"))["unit_tests"].values())
    tagged = {
        test["unique_id"] for test in unit_tests if selected in test["config"].get("tags", [])
    }
    if not tagged:
        raise ValueError(
            f"CLM_RUN_UNIT_TESTS=tag:{selected}: no dbt unit test has the tag {selected!r} "
            "(give one `config: {tags: [...]}` in its YAML, or set true or false)"
        )
    return [
        argument
        for test in sorted(unit_tests, key=lambda test: test["name"])
        if test["unique_id"] not in tagged
        for argument in ("--exclude", f"unit_test:{test['package_name']}.{test['name']}")
    ]


# dbt's own generic data tests (dbt-core's macros, the same on every adapter), which
# CLM_RUN_BUILTIN_TESTS=false leaves out of a run's builds.
BUILTIN_GENERIC_TESTS = ("not_null", "unique", "accepted_values", "relationships")


def build_exclusion() -> list[str]:
    """What every `dbt build` of a run or a command leaves out, from the settings: the unit
    tests (``unit_test_exclusion``) and, with CLM_RUN_BUILTIN_TESTS=false, dbt's built-in
    generic tests (one ``--exclude test_name:<name>`` each, like the unit tests' exclusions)."""
    exclusion = unit_test_exclusion()
    if not settings_value("CLM_RUN_BUILTIN_TESTS"):
        for name in BUILTIN_GENERIC_TESTS:
            exclusion += ["--exclude", f"test_name:{name}"]
    return exclusion


def project_arguments() -> list[str]:
    """Where every dbt call finds the project and profiles.yml: the repository."""
    return ["--project-dir", str(REPO_ROOT), "--profiles-dir", str(REPO_ROOT)]


def run_dbt(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    """Run a dbt command in the project directory and return its output (colours removed)."""
    command = [
        dbt_executable(),
        "--no-use-colors",
        *args,
        *vars_argument(),
        *project_arguments(),
    ]
    result = subprocess.run(command, cwd=REPO_ROOT, text=True, capture_output=True)
    result.stdout = ANSI_ESCAPE.sub("", result.stdout)
    result.stderr = ANSI_ESCAPE.sub("", result.stderr)
    if check and result.returncode != 0:
        output = "\n".join(part.strip() for part in (result.stdout, result.stderr) if part.strip())
        raise RuntimeError(f"`dbt {' '.join(args)}` failed:\n{output}")
    return result


# What a manifest is parsed from: the dbt project's files (dbt_project.yml's paths).
PROJECT_FILES = (
    "dbt_project.yml",
    "profiles.yml",
    "packages.yml",
    "models",
    "macros",
    "seeds",
    "snapshots",
    "data-tests",
    "analyses",
)


# The vars dbt reads only when it connects (profiles.yml), never while it parses: where the
# warehouse file is and DuckDB's memory limit. No file of the dbt project reads them, nor any
# environment variable (tests/unit/dbt/test_parse_inputs.py); of the path, a parse keeps
# DuckDB's database name, the file's stem, in every node.
CONNECTION_ONLY_VARS = ("clm_duckdb_path", "clm_duckdb_memory_limit")


def manifest_stamp(locations: bool = True) -> str:
    """sha256 of everything `dbt parse` reads: the project's files, the ``--vars``, the
    environment variables models may read (``env_var``: ``CLM_*`` and ``DBT_*``) and dbt's
    version. Equal stamps parse to the same manifest.

    dbt's partial parsing, and so the file stamp, count the warehouse path and the environment
    too. ``locations=False`` leaves out ``CONNECTION_ONLY_VARS`` (the database name stays) and
    the environment, which no project file reads: equal stamps then still parse to manifests
    that build the same nodes, on whichever file (``dbt_in_process`` keeps a parse by it)."""
    from importlib.metadata import version

    from orchestration.run_state import code_digest

    environment = {k: v for k, v in os.environ.items() if k.startswith(("CLM_", "DBT_"))}
    arguments = vars_argument()
    if not locations:
        values = json.loads(arguments[-1])
        values["database"] = Path(values.get("clm_duckdb_path") or "").stem
        for name in CONNECTION_ONLY_VARS:
            values.pop(name, None)
        arguments = [*arguments[:-1], json.dumps(values, sort_keys=True)]
        environment = {}
    parts = {
        "files": code_digest(REPO_ROOT, PROJECT_FILES),
        "vars": arguments,
        "environment": environment,
        "dbt": version("dbt-core"),
        "adapter": version("dbt-duckdb"),
    }
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()


def prepare_manifest() -> Path:
    """`dbt parse` → target/manifest.json, which Dagster's dbt assets are defined from, parsed
    in this process (dbt_in_process.parse), so that the run's dbt steps build on the same parse.

    Skipped when the manifest is the one this function wrote (same size and modification time)
    and was parsed from exactly what is there now (``manifest_stamp``): the steps then parse in
    the run's process from dbt's partial parse, which is quick when nothing changed. A `dbt`
    command run by hand that rewrites the manifest makes the next call parse again.
    """
    manifest = target_dir() / "manifest.json"
    stamp_file = target_dir() / "manifest.stamp.json"
    stamp = manifest_stamp()
    with contextlib.suppress(OSError, ValueError, KeyError, TypeError):
        recorded = json.loads(stamp_file.read_text(encoding="utf-8"))
        status = manifest.stat()
        if recorded["stamp"] == stamp and recorded["manifest"] == [
            status.st_size,
            status.st_mtime_ns,
        ]:
            return manifest
    stamp_file.unlink(missing_ok=True)
    from orchestration.dbt_in_process import parse

    parse()
    status = manifest.stat()
    stamp_file.write_text(
        json.dumps({"stamp": stamp, "manifest": [status.st_size, status.st_mtime_ns]}),
        encoding="utf-8",
    )
    return manifest


if __name__ == "__main__":  # `make manifest`
    prepare_manifest()
