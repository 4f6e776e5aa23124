"""Landing files → DuckDB raw tables: one multi-asset per source, built from the contract."""

from collections.abc import Iterator

from dagster import (
    AssetExecutionContext,
    AssetKey,
    AssetSpec,
    MaterializeResult,
    asset,
    multi_asset,
)

from orchestration.contract import Source, sources
from orchestration.settings import get_settings
from orchestration.warehouse import connect

LANDING_ASSET_KEY = AssetKey(["landing", "files"])


@asset(key=LANDING_ASSET_KEY, group_name="ingest", kinds={"file"})
def landing_files(context: AssetExecutionContext) -> MaterializeResult:
    """The landing folder (`CLM_LANDING_DIR`). Filled with the default sample data when empty."""
    from tools.generator import ensure_sample_data

    settings = get_settings()
    generated = ensure_sample_data(
        settings.landing_dir,
        scale=settings.sample_scale,
        seed=settings.sample_seed,
        progress=context.log.info,
    )
    files = [
        path
        for path in settings.landing_dir.rglob("*")
        if path.is_file() and path.suffix in (".csv", ".jsonl", ".parquet")
    ]
    return MaterializeResult(
        metadata={
            "landing_dir": str(settings.landing_dir),
            "data_files": len(files),
            "sample_data_generated": generated,
        }
    )


def _source_asset(source: Source):
    specs = [
        AssetSpec(
            key=AssetKey(["raw", table.raw_name]),
            description=f"{table.description} Raw rows as landed, with load metadata.",
            group_name="ingest",
            kinds={"duckdb"},
            deps=[LANDING_ASSET_KEY],
        )
        for table in source.tables
    ]

    @multi_asset(name=f"load_{source.name}", specs=specs)
    def load_source(context: AssetExecutionContext) -> Iterator[MaterializeResult]:
        from orchestration.ingest.loader import load_landing

        settings = get_settings()
        with connect() as con:
            report = load_landing(
                con, settings.landing_dir, sources=[source.name], progress=context.log.info
            )
        for warning in report.warnings:
            context.log.warning(warning)
        # A file that failed mid-load was rolled back; the others stay loaded. Fail the step so
        # the run (and the failure alert) says so, after the good files are in.
        report.raise_for_failures()
        for table in source.tables:
            files = [f for f in report.files if f.table_name == table.name]
            yield MaterializeResult(
                asset_key=AssetKey(["raw", table.raw_name]),
                metadata={
                    "files_loaded": sum(1 for f in files if f.status == "loaded"),
                    "files_skipped": sum(
                        1 for f in files if f.status in ("skipped", "duplicate", "empty")
                    ),
                    "files_rejected": sum(1 for f in files if f.status == "rejected"),
                    "rows_loaded": sum(f.rows_loaded for f in files),
                    "rows_rejected": sum(f.rows_rejected for f in files),
                    "rejected_files": [
                        f"{f.file_name}: {f.reason}" for f in files if f.status == "rejected"
                    ],
                },
            )

    load_source.__doc__ = f"Load {source.name} landing files into raw ({source.description})"
    return load_source


# One asset definition per source, e.g. `load_shop`; module-level so `load_defs` finds them.
for _source in sources():
    globals()[f"load_{_source.name}"] = _source_asset(_source)
