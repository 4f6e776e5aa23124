"""Every ``CLM_*`` setting of the project, declared once: name, default, type, rule, meaning.

The registry below is the only code that reads ``CLM_*`` variables from the environment. The
parts get their values from it: ``value("CLM_X")`` (typed), ``get_settings()`` (the paths),
``dbt_vars()`` (passed to dbt as ``--vars``), ``check()`` (every value validated at start-up,
so a bad value fails before anything runs, with the variable named). ``clm settings`` and the
README's settings table are rendered from it.

A new setting is one more ``Setting(...)`` in ``_DECLARED``, with the kind that parses and
checks it (and ``dbt_var=`` when dbt models or macros read it).
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent.parent

# The defaults of the paths, relative to the repository.
DEFAULT_LANDING_DIR = "landing"


class SettingError(ValueError):
    """A setting whose value breaks its rule; the message names the variable."""

    def __init__(self, name: str, raw: str, problem: str) -> None:
        self.name = name
        self.raw = raw
        super().__init__(f"{name}={raw!r}: {problem}")


@dataclass(frozen=True)
class Setting:
    """One ``CLM_*`` variable: its default (as text, as the environment holds it), its kind
    (how the text is parsed and checked) and what it does."""

    name: str
    default: str
    description: str
    # text, path, int, float, bool, date, currency, choice, choices, url, secret, mode, version,
    # size, unit_tests
    kind: str = "text"
    group: str = "general"
    minimum: float | None = None
    choices: tuple[str, ...] = ()  # of a choice, or of each item of a choices list
    dbt_var: str | None = None  # the dbt var it is passed to, if any

    def parse(self, raw: str) -> Any:
        """The typed value of ``raw`` (the default when empty); raises ``SettingError``."""
        text = raw.strip() if self.kind != "secret" else raw
        if text == "":
            text = self.default
        parser = _PARSERS[self.kind]
        try:
            parsed = parser(self, text)
        except SettingError:
            raise
        except (ValueError, TypeError) as error:
            raise SettingError(self.name, raw, str(error)) from None
        if self.minimum is not None and parsed is not None and parsed < self.minimum:
            raise SettingError(self.name, raw, f"must be at least {self.minimum:g}")
        return parsed


def _text(_setting: Setting, text: str) -> str:
    return text


def _path(_setting: Setting, text: str) -> Path | None:
    # Relative paths are relative to the repository, whatever the caller's working directory.
    # An empty path (a default that depends on another setting) is None.
    if text == "":
        return None
    path = Path(text).expanduser()
    return path if path.is_absolute() else REPO_ROOT / path


def _int(setting: Setting, text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise SettingError(setting.name, text, "expected a whole number") from None


def _float(setting: Setting, text: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise SettingError(setting.name, text, "expected a number") from None


_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


def _bool(setting: Setting, text: str) -> bool:
    if text.lower() in _TRUE:
        return True
    if text.lower() in _FALSE:
        return False
    raise SettingError(setting.name, text, "expected true or false")


def _unit_tests(setting: Setting, text: str) -> bool | str:
    # true / false, or tag:<name>: only the dbt unit tests with that tag.
    if text.lower().startswith("tag:"):
        tag = text[len("tag:") :].strip()
        if re.fullmatch(r"[A-Za-z0-9_-]+", tag):
            return tag
    elif text.lower() in _TRUE | _FALSE:
        return text.lower() in _TRUE
    raise SettingError(setting.name, text, "expected true, false or tag:<dbt tag>")


def _date(setting: Setting, text: str) -> date | None:
    if text == "":
        return None
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
        raise SettingError(setting.name, text, "expected a date YYYY-MM-DD (or empty)")
    try:
        return date.fromisoformat(text)
    except ValueError as error:
        raise SettingError(setting.name, text, f"not a calendar date ({error})") from None


def _currency(setting: Setting, text: str) -> str:
    if not re.fullmatch(r"[A-Za-z]{3}", text):
        raise SettingError(setting.name, text, "expected a 3-letter ISO 4217 code, e.g. USD")
    return text.upper()


def _choice(setting: Setting, text: str) -> str:
    if text not in setting.choices:
        raise SettingError(setting.name, text, f"expected one of {', '.join(setting.choices)}")
    return text


def _choices(setting: Setting, text: str) -> tuple[str, ...]:
    items = tuple(item.strip().lower() for item in text.split(",") if item.strip())
    unknown = [item for item in items if item not in setting.choices]
    if unknown or not items:
        raise SettingError(
            setting.name, text, f"expected a comma-separated list of {', '.join(setting.choices)}"
        )
    return items


def _mode(setting: Setting, text: str) -> int | None:
    # A file mode in octal: 0640, 640 or 0o640; empty = not set.
    if text == "":
        return None
    digits = text.lower().removeprefix("0o")
    if not re.fullmatch(r"[0-7]{3,4}", digits):
        raise SettingError(setting.name, text, "expected an octal file mode such as 0640")
    return int(digits, 8)


def _version(setting: Setting, text: str) -> str:
    if not re.fullmatch(r"v\d+\.\d+\.\d+", text):
        raise SettingError(setting.name, text, "expected a DuckDB storage version such as v1.0.0")
    return text


# A DuckDB memory size: a number and a unit (DuckDB's own spelling: 2GB, 512MB, 1.5GiB), or a
# share of the machine's RAM (80%: DuckDB's default).
_SIZE = re.compile(r"(\d+(?:\.\d+)?)\s*(KB|MB|GB|TB|KiB|MiB|GiB|TiB|%)", re.IGNORECASE)


def _size(setting: Setting, text: str) -> str:
    match = _SIZE.fullmatch(text)
    amount = float(match.group(1)) if match else 0.0
    if not match or amount <= 0 or (match.group(2) == "%" and amount > 100):
        raise SettingError(
            setting.name,
            text,
            "expected a memory size such as 3GB or 512MB, or a share of RAM such as 50%",
        )
    return f"{match.group(1)}{match.group(2)}"


def _url(setting: Setting, text: str) -> str:
    if text and not re.match(r"https?://", text):
        raise SettingError(setting.name, "…", "expected an http:// or https:// URL (or empty)")
    return text


_PARSERS: dict[str, Callable[[Setting, str], Any]] = {
    "text": _text,
    "secret": _text,
    "path": _path,
    "int": _int,
    "float": _float,
    "bool": _bool,
    "unit_tests": _unit_tests,
    "date": _date,
    "currency": _currency,
    "choice": _choice,
    "choices": _choices,
    "url": _url,
    "mode": _mode,
    "version": _version,
    "size": _size,
}

_DECLARED: tuple[Setting, ...] = (
    # Where data is read and written.
    Setting(
        "CLM_LANDING_DIR",
        DEFAULT_LANDING_DIR,
        "Landing folder read by the loader (docs/landing-contract.md). The default folder is "
        "filled with sample data by `make run` / `clm run` when it is empty; any other folder "
        "must exist.",
        kind="path",
        group="paths",
    ),
    Setting(
        "CLM_DUCKDB_PATH",
        "warehouse/clm.duckdb",
        "The working warehouse (DuckDB file); its run lock and the run logs (logs/) sit next "
        "to it.",
        kind="path",
        group="paths",
    ),
    Setting(
        "CLM_BI_DUCKDB_PATH",
        "warehouse/bi.duckdb",
        "Published marts for BI tools; replaced atomically after a validated run.",
        kind="path",
        group="paths",
    ),
    Setting(
        "CLM_GX_PROJECT_DIR",
        "expectations",
        "The Great Expectations project (holds gx/).",
        kind="path",
        group="paths",
    ),
    # Publication for BI (orchestration/publish.py).
    Setting(
        "CLM_BI_PARQUET_DIR",
        "",
        "Folder of the Parquet copies of the BI file (one sub-folder per publication, `current` "
        "links the newest); empty = `parquet/` next to the BI file.",
        kind="path",
        group="publish",
    ),
    Setting(
        "CLM_BI_REPORT_PATH",
        "",
        "The lifecycle report (self-contained HTML) written with each publication; empty = "
        "`lifecycle-report.html` next to the BI file.",
        kind="path",
        group="publish",
    ),
    Setting(
        "CLM_BI_STORAGE_VERSION",
        "v1.0.0",
        "DuckDB storage version of the BI file; v1.0.0 is read by DuckDB 1.1 and later.",
        kind="version",
        group="publish",
    ),
    Setting(
        "CLM_BI_FILE_MODE",
        "",
        "Octal mode of the published files and of a new working file (e.g. 0640); empty = keep "
        "the previous BI file's mode, 0640 for the first.",
        kind="mode",
        group="publish",
    ),
    Setting(
        "CLM_PUBLISH_PSEUDONYMISE",
        "false",
        "true = publish personal columns (meta pii: true in the marts YAML) as keyed hashes.",
        kind="bool",
        group="publish",
    ),
    Setting(
        "CLM_PSEUDONYMISATION_KEY",
        "",
        "Secret key of the keyed hash (at least 16 characters); required when "
        "CLM_PUBLISH_PSEUDONYMISE is true. Keep it out of git.",
        kind="secret",
        group="publish",
    ),
    # Sample data (`clm generate`, and `clm run` on an empty default landing folder).
    Setting(
        "CLM_SAMPLE_SCALE",
        "s",
        "Scale of the sample data generated into an empty default landing folder.",
        kind="choice",
        choices=("xs", "s", "m", "l"),
        group="sample data",
    ),
    Setting(
        "CLM_SAMPLE_SEED",
        "42",
        "Seed of the generated sample data.",
        kind="int",
        group="sample data",
    ),
    # Loading landing files, staging rules and erasure.
    Setting(
        "CLM_CSV_ENCODING",
        "utf-8,latin-1",
        "Encodings tried in order for CSV/JSONL landing files (utf-8, utf-16, latin-1); the "
        "manifest names the one used when it is not the first.",
        kind="choices",
        choices=(
            "utf-8",
            "utf8",
            "utf-16",
            "utf16",
            "latin-1",
            "latin1",
            "iso-8859-1",
            "iso8859-1",
        ),
        group="loader",
    ),
    Setting(
        "CLM_CURRENCY_RATE_FALLBACK",
        "none",
        "none: a row whose foreign currency has no rate for its month is quarantined; nearest: "
        "it is converted at the nearest month's rate, with a warning naming the month.",
        kind="choice",
        choices=("none", "nearest"),
        group="loader",
        dbt_var="currency_rate_fallback",
    ),
    Setting(
        "CLM_MAX_TEXT_LENGTH",
        "4000",
        "Longest text value (characters) staging accepts; a longer one quarantines its row.",
        kind="int",
        minimum=1,
        group="loader",
        dbt_var="max_text_length",
    ),
    Setting(
        "CLM_TOMBSTONE_PATH",
        "",
        "File of erasure tombstones and the erasure audit log (default: tombstones.json beside "
        "CLM_DUCKDB_PATH); it survives a rebuild of the warehouse.",
        kind="path",
        group="loader",
    ),
    Setting(
        "CLM_ERASURE_SALT",
        "",
        "Secret key of the tombstone hashes; when empty, one is generated once and kept in the "
        "tombstone file.",
        kind="secret",
        group="loader",
    ),
    # The KPI settings (docs/kpis.md), passed to dbt as vars.
    Setting(
        "CLM_REPORTING_CURRENCY",
        "USD",
        "ISO 4217 currency all money in the marts is converted to.",
        kind="currency",
        group="kpis",
        dbt_var="reporting_currency",
    ),
    Setting(
        "CLM_AS_OF_DATE",
        "",
        "Marts are computed as of this date (YYYY-MM-DD); empty = latest order date.",
        kind="date",
        group="kpis",
        dbt_var="as_of_date",
    ),
    Setting(
        "CLM_ATTRIBUTION_WINDOW_DAYS",
        "7",
        "Days after an email click in which an order counts as its conversion.",
        kind="int",
        minimum=0,
        group="kpis",
        dbt_var="attribution_window_days",
    ),
    Setting(
        "CLM_AT_RISK_AFTER_DAYS",
        "90",
        "A customer whose last valid order is older than this is at risk.",
        kind="int",
        minimum=1,
        group="kpis",
        dbt_var="at_risk_after_days",
    ),
    Setting(
        "CLM_INACTIVE_AFTER_DAYS",
        "180",
        "A customer whose last valid order is older than this is inactive.",
        kind="int",
        minimum=1,
        group="kpis",
        dbt_var="inactive_after_days",
    ),
    Setting(
        "CLM_AT_RISK_AFTER_PURCHASE_GAPS",
        "2",
        "A repeat buyer is at risk once the days since their last order exceed this many times "
        "their own mean days between purchases.",
        kind="float",
        minimum=1,
        group="kpis",
        dbt_var="at_risk_after_purchase_gaps",
    ),
    Setting(
        "CLM_INACTIVE_AFTER_PURCHASE_GAPS",
        "4",
        "A repeat buyer is inactive once the days since their last order exceed this many times "
        "their own mean days between purchases.",
        kind="float",
        minimum=1,
        group="kpis",
        dbt_var="inactive_after_purchase_gaps",
    ),
    Setting(
        "CLM_CLV_HORIZON_MONTHS",
        "12",
        "Months ahead that predicted CLV covers.",
        kind="int",
        minimum=1,
        group="kpis",
        dbt_var="clv_horizon_months",
    ),
    Setting(
        "CLM_CLV_MONTHLY_DISCOUNT_RATE",
        "0.01",
        "Monthly discount rate of predicted CLV.",
        kind="float",
        minimum=0,
        group="kpis",
        dbt_var="clv_monthly_discount_rate",
    ),
    # The predicted-CLV fit (docs/clv.md).
    Setting(
        "CLM_CLV_HOLDOUT_WEEKS",
        "26",
        "Weeks before as_of_date held out to compare the CLV purchase models "
        "(marts.clv_model_holdout); 0 switches the holdout report off (docs/clv.md).",
        kind="int",
        minimum=0,
        group="clv",
    ),
    # Thresholds of the Great Expectations rules.
    Setting(
        "CLM_DRIFT_MAX_PCT",
        "50",
        "Largest change of a run metric against the last published run, percent.",
        kind="float",
        minimum=0,
        group="quality",
    ),
    Setting(
        "CLM_FRESHNESS_MAX_DAYS",
        "3",
        "Newest clean order at most this many days before as_of_date.",
        kind="int",
        minimum=0,
        group="quality",
    ),
    Setting(
        "CLM_MAX_UNIT_PRICE",
        "5000",
        "A unit price above this is implausible (typically an export in cents).",
        kind="float",
        minimum=0,
        group="quality",
    ),
    Setting(
        "CLM_MAX_ORDER_SUBTOTAL",
        "20000",
        "An order subtotal above this is implausible (typically an export in cents).",
        kind="float",
        minimum=0,
        group="quality",
    ),
    Setting(
        "CLM_UNIT_JUMP_FACTOR",
        "100",
        "Factor of a unit mistake (cents for units): a delivery whose prices move by about this "
        "factor (or its inverse) against the shop's own history fails a blocking check.",
        kind="float",
        minimum=1,
        group="quality",
    ),
    Setting(
        "CLM_UNIT_JUMP_TOLERANCE",
        "3",
        "How near the factor counts: a ratio between factor / tolerance and factor × tolerance "
        "(or the inverse range) is a unit jump.",
        kind="float",
        minimum=1,
        group="quality",
    ),
    Setting(
        "CLM_DATA_DOCS_KEEP_RUNS",
        "30",
        "Validation runs kept in the Data Docs (older results and pages are removed).",
        kind="int",
        minimum=1,
        group="quality",
    ),
    Setting(
        "CLM_RUN_UNIT_TESTS",
        "false",
        "true = every pipeline run (and `clm erase`'s rebuild) also runs dbt's unit tests; "
        "tag:<name> = only those with that dbt tag (tag:worked_example: the KPI worked examples "
        "and the identity rules). They check the models' logic on fixed inputs, not the data, "
        "so `make test` (CI) runs them all and runs skip them.",
        kind="unit_tests",
        group="quality",
    ),
    Setting(
        "CLM_RUN_BUILTIN_TESTS",
        "true",
        "false = every dbt build of a run (and `clm erase`'s rebuild) leaves out dbt's built-in "
        "generic data tests (not_null, unique, accepted_values, relationships: 437 of the 457 "
        "data tests) and keeps the project's own (contract_values, the singular tests). On "
        "Spark each test is a query of about a second: the Spark parity test runs so and compares "
        "every model's rows with DuckDB's instead. Runs that publish keep the default.",
        kind="bool",
        group="quality",
    ),
    # Alerts.
    Setting(
        "CLM_ALERT_LOG_PATH",
        "warehouse/alerts.jsonl",
        "JSON-lines file every alert is appended to (the audit trail of alerts).",
        kind="path",
        group="alerts",
    ),
    Setting(
        "CLM_ALERT_WEBHOOK_URL",
        "",
        "Slack-compatible incoming webhook; empty = no webhook.",
        kind="secret",
        group="alerts",
    ),
    Setting(
        "CLM_ALERT_WEBHOOK_TIMEOUT",
        "10",
        "Seconds one webhook attempt may take in all (connect, send, read the answer).",
        kind="float",
        minimum=0.1,
        group="alerts",
    ),
    Setting("CLM_ALERT_SMTP_HOST", "", "SMTP server; empty = no email.", group="alerts"),
    Setting("CLM_ALERT_SMTP_PORT", "25", "SMTP port.", kind="int", minimum=1, group="alerts"),
    Setting("CLM_ALERT_SMTP_FROM", "", "Sender address (required for email).", group="alerts"),
    Setting(
        "CLM_ALERT_SMTP_TO", "", "Recipients, comma-separated (required for email).", group="alerts"
    ),
    Setting(
        "CLM_ALERT_SMTP_STARTTLS",
        "false",
        "Upgrade the connection with STARTTLS (true/false).",
        kind="bool",
        group="alerts",
    ),
    Setting("CLM_ALERT_SMTP_USER", "", "SMTP login; empty = no AUTH.", group="alerts"),
    Setting(
        "CLM_ALERT_SMTP_PASSWORD",
        "",
        "SMTP password (environment only, never in the repository).",
        kind="secret",
        group="alerts",
    ),
    Setting(
        "CLM_ALERT_SMTP_TIMEOUT",
        "10",
        "Seconds one SMTP attempt may take in all (connect, send, read the answer).",
        kind="float",
        minimum=0.1,
        group="alerts",
    ),
    Setting(
        "CLM_ALERT_RETRIES",
        "3",
        "Attempts per delivery channel (at least 1).",
        kind="int",
        minimum=1,
        group="alerts",
    ),
    Setting(
        "CLM_ALERT_RETRY_BACKOFF_SECONDS",
        "0.5",
        "Wait before the 2nd attempt; doubles after.",
        kind="float",
        minimum=0,
        group="alerts",
    ),
    Setting(
        "CLM_ALERT_DELIVERY_BUDGET_SECONDS",
        "30",
        "Longest time one channel may spend on one alert, every attempt and wait included.",
        kind="float",
        minimum=0.1,
        group="alerts",
    ),
    Setting(
        "CLM_ALERT_WEBHOOK_IDEMPOTENT",
        "false",
        "The webhook receiver discards repeats of an Idempotency-Key, so an attempt that timed "
        "out after sending may be retried (true/false).",
        kind="bool",
        group="alerts",
    ),
    Setting(
        "CLM_ALERT_DAGSTER_URL",
        "",
        "Dagster web UI base URL, to link an alert's run id.",
        kind="url",
        group="alerts",
    ),
    # The engine (docs/spark.md): DuckDB by default; Spark runs the same pipeline on Parquet.
    Setting(
        "CLM_ENGINE",
        "duckdb",
        "Engine that builds the warehouse: duckdb (one file) or spark (Parquet tables under "
        "CLM_SPARK_WAREHOUSE_DIR, needs `make spark`).",
        kind="choice",
        choices=("duckdb", "spark"),
        group="engine",
    ),
    Setting(
        "CLM_DUCKDB_MEMORY_LIMIT",
        "80%",
        "Memory DuckDB may use in each process of a run (loader, dbt, CLV, checks, publish): a "
        "size (3GB) or a share of RAM (80%, DuckDB's own default); beyond it, joins and sorts "
        "spill to `<CLM_DUCKDB_PATH>.tmp/` next to the warehouse. Python, Dagster and dbt come "
        "on top. Too low a limit fails the run with DuckDB's Out of Memory error: 2GB and 3GB "
        "did at tier m while the staging currency check was a correlated subquery (it is not "
        "since; the largest staging model at tier l now builds within 3GB: "
        "benchmarks/README.md).",
        kind="size",
        group="engine",
    ),
    Setting(
        "CLM_SPARK_WAREHOUSE_DIR",
        "warehouse/spark",
        "Spark's warehouse (spark.sql.warehouse.dir): tables at <schema>.db/<table>/ as "
        "Parquet, and the local metastore (metastore_db/).",
        kind="path",
        group="engine",
    ),
    Setting(
        "CLM_SPARK_MASTER",
        "local[2]",
        "Spark master: local[N] runs Spark inside the process on N cores.",
        group="engine",
    ),
    Setting(
        "CLM_SPARK_SHUFFLE_PARTITIONS",
        "4",
        "Partitions of each Spark shuffle (spark.sql.shuffle.partitions; Spark's own default is "
        "200). Each is a task and a Parquet file of its own: 4 suits the sample tiers on 2 "
        "cores; 1 builds tiny data (xs) about 10% faster; raise it with the cores and the data.",
        kind="int",
        minimum=1,
        group="engine",
    ),
    Setting(
        "CLM_SPARK_CODEGEN",
        "true",
        "true = Spark compiles each query's plan to Java bytecode (whole-stage and expression "
        "code generation), which pays off on volume; false = it interprets the plan: on tiny "
        "data in short runs (xs, the test suite) up to ~15% less CPU, since compiling costs "
        "more than the rows.",
        kind="bool",
        group="engine",
    ),
    Setting(
        "CLM_SPARK_JAVA_OPTIONS",
        "",
        "Extra options of Spark's driver JVM (spark.driver.extraJavaOptions, after the "
        "metastore's location), e.g. -XX:+UseSerialGC -XX:TieredStopAtLevel=1 (the C1 JIT only) "
        "for short runs on small data (the test suite's: docs/spark.md).",
        group="engine",
    ),
    Setting(
        "CLM_SPARK_CONNECT",
        "true",
        "true = a run on Spark (`clm run`) starts one Spark (a Spark Connect server on "
        "127.0.0.1) that all its steps use: dbt, CLV, checks, publication; false = each step "
        "starts a Spark of its own (seven JVM start-ups per run instead of one).",
        kind="bool",
        group="engine",
    ),
    Setting(
        "CLM_SPARK_DRIVER_MEMORY",
        "4g",
        "Memory of Spark's driver JVM (spark.driver.memory), e.g. 2g or 4g.",
        group="engine",
    ),
)

REGISTRY: dict[str, Setting] = {setting.name: setting for setting in _DECLARED}


def registry() -> dict[str, Setting]:
    """Every setting, in the order ``clm settings`` and the README show them."""
    return REGISTRY


def declared(name: str) -> Setting:
    """The declaration of ``name``; ``KeyError`` for a name that is not a setting."""
    try:
        return REGISTRY[name]
    except KeyError:
        raise KeyError(f"{name} is not a setting declared in orchestration/settings.py") from None


def raw(name: str, environ: Mapping[str, str] | None = None) -> str:
    """The text in force for ``name``: the environment's value, else the default."""
    env = os.environ if environ is None else environ
    value = env.get(name)
    return value if value not in (None, "") else declared(name).default


def value(name: str, environ: Mapping[str, str] | None = None) -> Any:
    """The typed value in force for ``name``; raises ``SettingError`` naming the variable."""
    env = os.environ if environ is None else environ
    return declared(name).parse(env.get(name) or "")


def errors(environ: Mapping[str, str] | None = None) -> list[SettingError]:
    """Every setting whose value in force breaks its rule."""
    found = []
    for name in registry():
        try:
            value(name, environ)
        except SettingError as error:
            found.append(error)
    return found


class InvalidSettings(ValueError):
    """One or more settings break their rule; the message has one line per variable."""

    def __init__(self, found: list[SettingError]) -> None:
        self.errors = found
        super().__init__("\n".join(str(error) for error in found))


def check(environ: Mapping[str, str] | None = None) -> None:
    """Raise ``InvalidSettings`` naming every invalid variable, if there is one."""
    found = errors(environ)
    if found:
        raise InvalidSettings(found)


def shown(name: str, environ: Mapping[str, str] | None = None) -> str:
    """The value in force as ``clm settings`` prints it (secrets masked)."""
    setting = declared(name)
    text = raw(name, environ)
    if setting.kind == "secret" and text:
        return "(set, hidden)"
    if setting.kind == "path" and text:
        return str(_path(setting, text))
    return text


@contextmanager
def environment(values: Mapping[str, str], remove: tuple[str, ...] = ()) -> Iterator[None]:
    """``os.environ`` with ``values`` set and every other name in ``remove`` unset for the
    block, then put back as it was. A name in both is set: ``remove`` is what the block must
    not inherit."""
    names = (*values, *remove)
    saved = {name: os.environ.get(name) for name in names}
    for name in remove:
        os.environ.pop(name, None)
    os.environ.update(values)
    try:
        yield
    finally:
        for name, previous in saved.items():
            if previous is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = previous


def dbt_vars(environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """The KPI settings as dbt vars, values as validated text (``--vars`` of every dbt call)."""
    found = {}
    for setting in registry().values():
        if setting.dbt_var:
            parsed = value(setting.name, environ)
            found[setting.dbt_var] = "" if parsed is None else str(parsed)
    return found


# The dbt vars with their defaults and meanings (var name -> (default, description)).
DBT_VARS: dict[str, tuple[str, str]] = {
    setting.dbt_var: (setting.default, setting.description)
    for setting in _DECLARED
    if setting.dbt_var
}


@dataclass(frozen=True)
class Settings:
    """The paths and sample-data settings in force when constructed."""

    landing_dir: Path
    duckdb_path: Path
    bi_duckdb_path: Path
    sample_scale: str
    sample_seed: int

    @property
    def landing_is_default(self) -> bool:
        """True when ``CLM_LANDING_DIR`` is not set: the demo folder sample data may fill."""
        return self.landing_dir == REPO_ROOT / DEFAULT_LANDING_DIR

    def dbt_vars(self) -> dict[str, str]:
        """The KPI settings as dbt vars."""
        return dbt_vars()


def get_settings() -> Settings:
    """Settings read from the environment now (not cached: tests change the environment)."""
    return Settings(
        landing_dir=value("CLM_LANDING_DIR"),
        duckdb_path=value("CLM_DUCKDB_PATH"),
        bi_duckdb_path=value("CLM_BI_DUCKDB_PATH"),
        sample_scale=value("CLM_SAMPLE_SCALE"),
        sample_seed=value("CLM_SAMPLE_SEED"),
    )
