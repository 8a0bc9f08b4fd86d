"""``gitreg import-mlflow``: parse, call :mod:`gitreg.mlflow_plugin.importer`, print."""

from __future__ import annotations

import sys

import click

from gitreg.cli.output import done, json_result_option, open_registry, registry_option, warn


@click.command("import-mlflow")
@click.option(
    "--tracking-uri",
    required=True,
    metavar="URI",
    help="MLflow tracking URI to copy from (e.g. sqlite:///mlflow.db or http://host:5000).",
)
@click.option(
    "--registry-uri", metavar="URI", help="MLflow registry URI, if not the tracking URI (as MLflow defaults)."
)
@click.option("--model", "models", multiple=True, metavar="NAME", help="Import only this model (repeatable).")
@json_result_option
@registry_option
def import_mlflow(
    tracking_uri: str, registry_uri: str | None, models: tuple[str, ...], as_json: bool, registry: str | None
) -> None:
    """Copy an MLflow registry's models, versions, stages and aliases into this registry.

    Version numbers are kept (a version deleted in MLflow stays a deleted number here);
    artifacts are downloaded through MLflow, with each version's source, run id, tags,
    description and its run's metrics and params. Running it again imports only what is new.
    Needs gitreg's 'mlflow' extra.
    """
    from gitreg.extras import require

    with require("mlflow"):
        from gitreg.mlflow_plugin.importer import import_registry

    reg = open_registry(registry)
    progress = _progress if sys.stderr.isatty() else None
    try:
        summary = import_registry(reg, tracking_uri, registry_uri, models, progress=progress)
    finally:
        if progress is not None:
            click.echo("\r\033[K", err=True, nl=False)
    warn(list(summary.notes))
    done(as_json, summary.line(), **summary.to_dict())


def _progress(message: str) -> None:
    """One line on the terminal, overwritten by the next."""
    click.echo(f"\r\033[Kimporting {message}", err=True, nl=False)
