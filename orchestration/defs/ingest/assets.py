"""Landing files → DuckDB raw tables: one multi-asset per source, built from the contract."""

from collections.abc import Iterator

from dagster import (
    AssetExecutionContext,
    AssetKey,
    AssetSpec,
    Failure,
    MaterializeResult,
    asset,
    multi_asset,
)

from orchestration.contract import FILE_FORMATS, Source, sources
from orchestration.settings import get_settings
from orchestration.warehouse import connect

LANDING_ASSET_KEY = AssetKey(["landing", "files"])


@asset(key=LANDING_ASSET_KEY, group_name="ingest", kinds={"file"})
def landing_files(context: AssetExecutionContext) -> MaterializeResult:
    """The landing folder (`CLM_LANDING_DIR`), as it is: the runtime never writes sample data.

    A missing folder fails the run at once (naming it); an empty one is a run that loads nothing
    new. `make run` / `clm run` fill the default demo folder before the run when it is empty.
    """
    landing = get_settings().landing_dir
    if not landing.is_dir():
        raise Failure(
            f"CLM_LANDING_DIR: the landing folder {landing} does not exist (or is not a folder)"
        )
    files = [
        path
        for path in landing.rglob("*")
        if path.is_file() and path.suffix.lower() in FILE_FORMATS
    ]
    if not files:
        context.log.info(f"{landing} holds no data files: nothing new to load")
    return MaterializeResult(metadata={"landing_dir": str(landing), "data_files": len(files)})


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
