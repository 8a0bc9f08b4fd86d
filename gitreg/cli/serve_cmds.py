"""Scoring commands: serve (HTTP, under gunicorn) and predict (a file, offline)."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from gitreg.cli.output import allowed_host_option, done, registry_option, say

_DEFAULT_MAX_BODY = 50 * 2**20


def _registry_location(registry: str | None) -> str | None:
    ctx = click.get_current_context()
    return registry or (ctx.find_root().obj or {}).get("registry")


_no_pickle_option = click.option(
    "--no-pickle",
    is_flag=True,
    help="Refuse versions stored as a pickle (cloudpickle, pickle, joblib; every python_function model) "
    "before reading them: only skops-format models load. registry.yaml 'loading: {allow_pickle: false}' "
    "refuses them regardless.",
)


@click.command()
@click.option("-m", "--model-uri", metavar="URI", help="Model to serve: models:/NAME/VERSION|STAGE|latest, NAME@ALIAS.")
@click.option(
    "--stage",
    metavar="STAGE",
    help="Serve every model in STAGE at /models/NAME/invocations and /models/NAME/metadata (no -m).",
)
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to bind.")
@allowed_host_option
@click.option("-p", "--port", default=5001, show_default=True, type=click.IntRange(0, 65535), help="Port to bind.")
@click.option("-w", "--workers", default=1, show_default=True, type=click.IntRange(1, 64), help="Worker processes.")
@click.option(
    "-t",
    "--timeout",
    default=60,
    show_default=True,
    type=click.IntRange(1),
    help="Longest a request may run: a worker busy for longer is restarted and its request gets no answer.",
)
@click.option(
    "--max-body",
    default=_DEFAULT_MAX_BODY,
    show_default=True,
    type=click.IntRange(1),
    metavar="BYTES",
    help="Largest request body accepted; larger ones get 413.",
)
@click.option(
    "--follow",
    is_flag=True,
    help="Watch the stage/alias/latest (or --stage) and swap in new versions as they are promoted.",
)
@click.option(
    "--interval",
    default=2.0,
    show_default=True,
    type=click.FloatRange(min=0.05),
    help="Seconds between --follow checks.",
)
@click.option("--debug", is_flag=True, help="Include tracebacks in 500 responses (never in production).")
@click.option("--no-access-log", is_flag=True, help="Do not log a line per request.")
@click.option(
    "--require-signed",
    is_flag=True,
    help="Load only versions whose tag (and, via a stage or alias, promotion commit) git verifies as signed.",
)
@click.option(
    "--as-of",
    metavar="INSTANT",
    help="With -m STAGE URI: serve what the stage held at that instant (ISO 8601), from its git history.",
)
@_no_pickle_option
@registry_option
def serve(
    model_uri: str | None,
    stage: str | None,
    host: str,
    allowed_hosts: tuple[str, ...],
    port: int,
    workers: int,
    timeout: int,
    max_body: int,
    follow: bool,
    interval: float,
    debug: bool,
    no_access_log: bool,
    require_signed: bool,
    as_of: str | None,
    no_pickle: bool,
    registry: str | None,
) -> None:
    """Serve a model over HTTP, compatible with MLflow's scoring server.

    POST /invocations takes JSON ({"dataframe_split": ...}, {"dataframe_records": ...},
    {"instances": ...}, {"inputs": ...}, each with optional "params"), the MLflow 1.x bodies
    with Content-Type application/json; format=pandas-split (or pandas-records), answered
    with a bare list, and CSV (text/csv). A request without Content-Type is read as JSON;
    only UTF-8 is accepted. GET /ping and /health answer 200 once the model is loaded,
    /version gives gitreg's version, /metadata the version that answers.

    Runs under gunicorn; SIGTERM or Ctrl-C stops it after the requests in flight.
    """
    model_uri = _what_to_serve(model_uri, stage, as_of, follow)
    _log_to_stderr(debug)
    from gitreg.server.listener import bind

    # Before anything slow (imports, the model): a taken port is one line at once.
    listener = bind(host, port)
    try:
        from gitreg.server.app import create_app
        from gitreg.server.hosts import HostPolicy

        app = create_app(
            model_uri,
            registry=_registry_location(registry),
            stage=stage,
            max_body=max_body,
            follow=follow,
            interval=interval,
            debug=debug,
            require_signed=require_signed,
            allow_pickle=False if no_pickle else None,
            allowed_hosts=HostPolicy.build(allowed_hosts, bound=host),
        )
    except BaseException:
        listener.close()
        raise
    from gitreg.server.runner import ServerOptions, run

    line = _ready_line(app.describe(), host, listener.getsockname()[1], workers, interval if follow else None)
    options = ServerOptions(host=host, port=port, workers=workers, timeout=timeout, access_log=not no_access_log)
    run(app, options, lambda: _say_now(line), listener)


def _what_to_serve(model_uri: str | None, stage: str | None, as_of: str | None, follow: bool) -> str | None:
    """The model URI to serve (``--as-of`` pinned to the instant), refusing bad combinations as usage errors."""
    if (model_uri is None) == (stage is None):
        raise click.UsageError("Give -m URI to serve one model, or --stage STAGE to serve a stage (not both).")
    if as_of is None:
        return model_uri
    from gitreg import uri as uris

    if model_uri is None or follow:
        raise click.UsageError("--as-of goes with -m STAGE-URI and without --follow: the past does not move.")
    return str(uris.at_instant(uris.parse(model_uri), uris.parse_instant(as_of)))


def _log_to_stderr(debug: bool) -> None:
    """The server's log (gunicorn's and gitreg's) on stderr, timestamped per line, each line once."""
    import logging

    # The CLI's "warning: ..." handler on the library's logger would repeat
    # every warning the root handler below already writes with a timestamp.
    logging.getLogger("gitreg").handlers.clear()
    logging.basicConfig(
        level=logging.DEBUG if debug else logging.INFO,
        format="[%(asctime)s] [%(process)d] [%(levelname)s] %(name)s: %(message)s",
        datefmt="%Y-%m-%d %H:%M:%S %z",
        stream=sys.stderr,
    )


def _ready_line(what: str, host: str, port: int, workers: int, interval: float | None) -> str:
    """What ``gitreg serve`` prints once it answers: the model, the URL, the workers, the follow interval."""
    where = f"http://{f'[{host}]' if ':' in host else host}:{port}"
    following = f", following every {interval:g}s" if interval is not None else ""
    return f"Serving {what} on {where} with {workers} {'worker' if workers == 1 else 'workers'}{following}"


def _say_now(line: str) -> None:
    say(line)
    sys.stdout.flush()


@click.command()
@click.option("-m", "--model-uri", required=True, metavar="URI", help="Model to score with.")
@click.option("-i", "--input-path", required=True, metavar="INPUT", help="File to score ('-' for stdin).")
@click.option(
    "-t",
    "--content-type",
    type=click.Choice(["json", "csv"]),
    default=None,
    help="How INPUT is written (default: csv for *.csv, else json), as /invocations reads it.",
)
@click.option("-o", "--output-path", metavar="OUTPUT", default=None, help="Write predictions here (default: stdout).")
@click.option(
    "--json",
    "as_json",
    is_flag=True,
    help="With -o: print what was written as one JSON object (the predictions on stdout are JSON already).",
)
@_no_pickle_option
@registry_option
def predict(
    model_uri: str,
    input_path: str,
    content_type: str | None,
    output_path: str | None,
    as_json: bool,
    no_pickle: bool,
    registry: str | None,
) -> None:
    """Score INPUT offline with the parsing and checks of POST /invocations.

    A JSON INPUT takes the server's forms ({"dataframe_split": ...}, {"dataframe_records": ...},
    {"instances": ...}, {"inputs": ...}); predictions are written as the server's JSON body,
    {"predictions": [...]}.
    """
    from gitreg.cli.progress import on_terminal
    from gitreg.errors import InvalidInputError
    from gitreg.pyfunc import load_model
    from gitreg.server.payload import parse_request
    from gitreg.server.scoring import score

    if content_type is None:
        content_type = "csv" if input_path.lower().endswith(".csv") else "json"
    try:
        body = sys.stdin.buffer.read() if input_path == "-" else Path(input_path).read_bytes()
    except OSError as exc:
        raise InvalidInputError(f"Cannot read {input_path}: {exc.strerror}.") from None
    media = "text/csv" if content_type == "csv" else "application/json"
    request = parse_request(body, media)
    with on_terminal(as_json):  # fetching and materialising a big version, on a terminal only
        model = load_model(model_uri, _registry_location(registry), allow_pickle=False if no_pickle else None)
    out = score(model, request)
    if output_path is None:
        sys.stdout.buffer.write(out + b"\n")
        return
    Path(output_path).write_bytes(out + b"\n")
    m = model.metadata
    label = f"{m.name} version {m.version}" if m.version else m.uri
    done(
        as_json,
        f"Wrote predictions for {input_path} by {label} to {output_path}.",
        model=m.name,
        version=m.version,
        uri=m.uri,
        input=input_path,
        output=output_path,
    )
