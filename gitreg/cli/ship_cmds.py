"""Shipping commands: export (a verified copy of a version) and dockerfile (an image serving one)."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from gitreg.cli.output import done, json_option, print_json, registry_option, say


def _registry_location(registry: str | None) -> str | None:
    ctx = click.get_current_context()
    return registry or (ctx.find_root().obj or {}).get("registry")


@click.command()
@click.argument("uri")
@click.argument("directory", metavar="DIR", type=click.Path(file_okay=False, path_type=Path))
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["gitreg", "mlflow"]),
    default="gitreg",
    show_default=True,
    help="gitreg: the artifacts and gitreg.yaml; mlflow: also checked loadable by mlflow.pyfunc.load_model "
    "and mlflow models serve (requirements.txt, python_env.yaml written when missing).",
)
@json_option
@registry_option
def export(uri: str, directory: Path, fmt: str, as_json: bool, registry: str | None) -> None:
    """Write a verified copy of the version URI names to DIR (new or empty).

    Every artifact's sha256 is checked against the manifest, in the cache and
    again in the copy, before DIR is written. Serve the copy anywhere with
    gitreg serve -m DIR, no registry needed.
    """
    from gitreg.cli.progress import on_terminal
    from gitreg.export import exported

    with on_terminal(as_json):  # fetching and materialising a big version, on a terminal only
        copy = exported(
            uri, directory, registry=_registry_location(registry), format="mlflow" if fmt == "mlflow" else "gitreg"
        )
    if as_json:
        print_json(copy.to_dict())
        return
    say(f"Exported {copy.name} version {copy.version} ({len(copy.files)} files, {copy.format} format) to {copy.path}.")


@click.command()
@click.argument("uri")
@click.option(
    "--stage-follow",
    is_flag=True,
    help="Follow URI's stage or alias in the registry (a git URL, -r) instead of copying an export.",
)
@click.option(
    "-o",
    "--output",
    "output",
    metavar="FILE",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the Dockerfile to FILE (default: stdout).",
)
@click.option(
    "--json", "as_json", is_flag=True, help="Print one JSON object: the Dockerfile's text, or the FILE written."
)
@registry_option
def dockerfile(uri: str, stage_follow: bool, output: Path | None, as_json: bool, registry: str | None) -> None:
    """Print a Dockerfile for an image serving URI on port 8080.

    The image installs the version's recorded requirements.txt and gitreg (from
    the build arguments GITREG_GIT_URL and GITREG_REF: a git URL and a tag),
    copies the directory `gitreg export URI model` wrote next to the Dockerfile
    and runs gitreg serve -m /model --host 0.0.0.0 --port 8080. With
    --stage-follow it clones nothing at build time: the container serves URI
    from the registry's git URL with --follow.
    """
    from gitreg.export import dockerfile as render

    text = render(uri, registry=_registry_location(registry), follow=stage_follow)
    if output is None:
        if as_json:
            print_json({"uri": uri, "stage_follow": stage_follow, "path": None, "dockerfile": text})
        else:
            sys.stdout.write(text)
        return
    output.write_text(text)
    done(
        as_json,
        f"Wrote the Dockerfile serving {uri} to {output}.",
        uri=uri,
        stage_follow=stage_follow,
        path=str(output),
    )
