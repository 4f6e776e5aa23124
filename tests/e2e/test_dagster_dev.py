"""`dagster dev` from the repository root, with no arguments, serves the whole graph."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from orchestration.preflight import DAGSTER_YAML

pytestmark = pytest.mark.e2e

STARTUP_SECONDS = 180


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _graphql(port: int, query: str) -> dict:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/graphql",
        data=json.dumps({"query": query}).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())


def test_dagster_dev_shows_every_asset_check_schedule_and_sensor(
    isolated_env: Path, dbt_manifest: Path, repo_root: Path
):
    port = _free_port()
    env = {
        **os.environ,
        "DAGSTER_HOME": str(isolated_env / "dagster_home"),
        # `dagster dev` re-parses the dbt project on load: into its own target folder, so the
        # manifest the other tests read meanwhile is never rewritten under them.
        "DBT_TARGET_PATH": str(isolated_env / "target"),
    }
    # the dagster.yaml `make dev` writes (prepare_dagster_home): the UI reads the event log
    # through the project's storage
    (isolated_env / "dagster_home").mkdir()
    (isolated_env / "dagster_home" / "dagster.yaml").write_text(DAGSTER_YAML, encoding="utf-8")
    dagster = Path(sys.executable).with_name("dagster")
    # Its own session: `dagster dev` ignores SIGTERM otherwise (a known Dagster behaviour), so the test ends
    # the whole process group.
    process = subprocess.Popen(
        [str(dagster), "dev", "-h", "127.0.0.1", "-p", str(port)],
        cwd=repo_root,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + STARTUP_SECONDS
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/server_info", timeout=5):
                    break
            except OSError:
                if time.monotonic() > deadline or process.poll() is not None:
                    pytest.fail("dagster dev did not answer /server_info")
                time.sleep(2)
        # The code location loads in its own process after the webserver answers.
        while True:
            data = _graphql(
                port,
                "{ assetNodes { assetKey { path } hasAssetChecks } "
                "workspaceOrError { ... on Workspace { locationEntries { name } } } }",
            )
            nodes = data.get("data", {}).get("assetNodes") or []
            if nodes or time.monotonic() > deadline:
                break
            time.sleep(2)
        keys = {"/".join(node["assetKey"]["path"]) for node in nodes}
        # The code location is named in pyproject.toml, not after the clone's folder.
        locations = data["data"]["workspaceOrError"]["locationEntries"]
        assert [entry["name"] for entry in locations] == ["customer_lifecycle_warehouse"]
        assert {"raw/shop__orders", "staging/stg_shop__orders", "marts/dim_customers"} <= keys
        assert {"marts/kpi_monthly", "clv/customer_clv_predictions", "bi/marts"} <= keys
        checked = {"/".join(n["assetKey"]["path"]) for n in nodes if n["hasAssetChecks"]}
        assert "marts/fct_orders" in checked
        repository = _graphql(
            port,
            "{ repositoriesOrError { ... on RepositoryConnection { nodes { "
            "schedules { name } sensors { name } jobs { name } } } } }",
        )["data"]["repositoriesOrError"]["nodes"][0]
        assert {s["name"] for s in repository["schedules"]} == {"daily_refresh"}
        assert {"new_landing_files", "alert_on_run_failure"} <= {
            s["name"] for s in repository["sensors"]
        }
        assert "clm_pipeline" in {j["name"] for j in repository["jobs"]}
        info = _graphql(port, "{ instance { info } }")["data"]["instance"]["info"]
        assert "KeptConnectionSqliteEventLogStorage" in info
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=30)
