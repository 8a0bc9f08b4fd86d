"""The ``gitreg`` command: click commands that parse, call the library, print.

Subcommands live in modules imported only when that command runs, so
``gitreg --help`` starts without importing numpy, pandas, sklearn or falcon.
"""

from __future__ import annotations

import difflib
import importlib
import sys
from typing import Any

import click

from gitreg.cli.errors import (
    EXIT_INTERRUPTED,
    GitregClickError,
    as_gitreg_error,
    exit_broken_pipe,
    report_unexpected,
)
from gitreg.cli.output import COLOR_CHOICES
from gitreg.errors import GitregError
from gitreg.extras import DISTRIBUTION

# command name -> (module, attribute, one-line help shown by `gitreg --help`)
COMMANDS: dict[str, tuple[str, str, str]] = {
    "init": ("gitreg.cli.registry_cmds", "init", "Create a new registry."),
    "register": ("gitreg.cli.registry_cmds", "register", "Register a saved model as a new version."),
    "models": ("gitreg.cli.registry_cmds", "models", "List registered models."),
    "versions": ("gitreg.cli.registry_cmds", "versions", "List the versions of a model."),
    "show": ("gitreg.cli.registry_cmds", "show", "Show a model or the version a URI resolves to."),
    "promote": ("gitreg.cli.registry_cmds", "promote", "Move a version to a stage (Staging, Production, ...)."),
    "demote": ("gitreg.cli.registry_cmds", "demote", "Remove a model from a stage."),
    "rollback": ("gitreg.cli.stage_cmds", "rollback", "Move a stage back to the version it held before."),
    "proposals": ("gitreg.cli.stage_cmds", "proposals", "Open promotion proposals: metric deltas and policy result."),
    "alias": ("gitreg.cli.registry_cmds", "alias", "Set or delete a model's aliases (models:/NAME@ALIAS)."),
    "history": ("gitreg.cli.registry_cmds", "history", "Registrations and stage moves, newest first."),
    "delete": ("gitreg.cli.registry_cmds", "delete", "Delete a version or a whole model."),
    "diff": ("gitreg.cli.gitops_cmds", "diff", "What changed between two versions."),
    "events": ("gitreg.cli.events_cmds", "events", "Registry events between two states, from git history."),
    "notify": ("gitreg.cli.events_cmds", "notify", "Send new registry events to webhooks (MLflow 3 format)."),
    "check": ("gitreg.cli.gitops_cmds", "check", "Verify the registry and promotion policy (for CI and pre-commit)."),
    "hook": ("gitreg.cli.hook_cmds", "hook", "Install gitreg's pre-receive hook into a server repository."),
    "ui": ("gitreg.cli.ui_cmds", "ui", "Browse the registry in a web browser."),
    "clone": ("gitreg.cli.remote_cmds", "clone", "Clone a registry from a git URL, with stages and tags."),
    "push": ("gitreg.cli.remote_cmds", "push", "Push a cloned registry's new state to origin."),
    "pull": ("gitreg.cli.remote_cmds", "pull", "Pull origin's new state into a cloned registry."),
    "sync": ("gitreg.cli.remote_cmds", "sync", "Pull, then push, a cloned registry."),
    "gc": ("gitreg.cli.gc_cmds", "gc", "Drop what a registry's storage no longer needs locally."),
    "serve": ("gitreg.cli.serve_cmds", "serve", "Serve a model (or a stage) over HTTP, MLflow-compatible."),
    "predict": ("gitreg.cli.serve_cmds", "predict", "Score a JSON or CSV file offline with a model."),
    "export": ("gitreg.cli.ship_cmds", "export", "Write a verified copy of a version to a directory."),
    "dockerfile": ("gitreg.cli.ship_cmds", "dockerfile", "Print a Dockerfile for an image serving a version."),
    "import-mlflow": (
        "gitreg.cli.mlflow_cmds",
        "import_mlflow",
        "Copy an MLflow registry (models, versions, stages, aliases) into this one.",
    ),
}


class LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*COMMANDS, *super().list_commands(ctx)})

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name in COMMANDS:
            module, attr, _ = COMMANDS[name]
            return with_group_options(getattr(importlib.import_module(module), attr))
        return super().get_command(ctx, name)

    def resolve_command(
        self, ctx: click.Context, args: list[str]
    ) -> tuple[str | None, click.Command | None, list[str]]:
        """An unknown command is refused with the commands it is close to (``gitreg promot``)."""
        name = click.utils.make_str(args[0])
        if not ctx.resilient_parsing and not name.startswith("-") and self.get_command(ctx, name) is None:
            near = difflib.get_close_matches(name, self.list_commands(ctx), n=3, cutoff=0.6)
            if near:
                ctx.fail(f"No such command {name!r}. Did you mean {' or '.join(repr(n) for n in near)}?")
        return super().resolve_command(ctx, args)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = [(name, COMMANDS[name][2]) for name in sorted(COMMANDS)]
        with formatter.section("Commands"):
            formatter.write_dl(rows)

    def invoke(self, ctx: click.Context) -> Any:
        try:
            try:
                return super().invoke(ctx)
            finally:
                _flush_registry_warnings()
        except BrokenPipeError:
            exit_broken_pipe()  # the reader of our output went away; git's own pipes raise GitError
        except (click.ClickException, click.exceptions.Exit, click.Abort, KeyboardInterrupt, SystemExit):
            raise
        except (GitregError, OSError) as exc:
            if ctx.meta.get("gitreg.traceback"):
                raise
            shown = as_gitreg_error(exc, ctx.invoked_subcommand)
            if shown is None:
                report_unexpected(exc)
            raise GitregClickError(shown) from None
        except Exception as exc:
            if ctx.meta.get("gitreg.traceback"):
                raise
            report_unexpected(exc)


def _set_color(ctx: click.Context, param: click.Parameter, value: str | None) -> None:
    from gitreg.cli.output import choose_color

    if value is not None:
        ctx.color = choose_color(value)


def _set_flag(ctx: click.Context, param: click.Parameter, value: bool) -> None:
    """``-q``, ``-v`` or ``--traceback`` given after the subcommand: the same as before it."""
    if not value or param.name is None:
        return
    other = {"quiet": "verbose", "verbose": "quiet"}.get(param.name)
    if other is not None and ctx.meta.get(f"gitreg.{other}"):
        raise click.UsageError(QUIET_AND_VERBOSE, ctx=ctx)
    ctx.meta[f"gitreg.{param.name}"] = True
    if param.name == "verbose":
        from gitreg.cli.output import show_library_warnings

        show_library_warnings(verbose=True)


HELP_OPTION_NAMES = ("-h", "--help")
QUIET_AND_VERBOSE = "-q/--quiet and -v/--verbose ask for opposite things; give one."
COLOR_HELP = "Colour the output: auto (on a terminal, unless NO_COLOR is set), always or never."
QUIET_HELP = "Print no success line (output asked for, errors and warnings stay)."
VERBOSE_HELP = "Also show what the library logs at INFO level, on stderr."


def _group_options() -> list[click.Option]:
    """The group's options as a subcommand takes them (``gitreg models -q`` as ``gitreg -q models``);
    ``-r/--registry`` is each command's own (:func:`gitreg.cli.output.registry_option`)."""
    return [
        click.Option(
            ["--color"],
            type=click.Choice(COLOR_CHOICES),
            default=None,
            expose_value=False,
            callback=_set_color,
            help=COLOR_HELP,
        ),
        _flag(["-q", "--quiet"], QUIET_HELP),
        _flag(["-v", "--verbose"], VERBOSE_HELP),
        _flag(["--traceback"], None),
    ]


def _flag(opts: list[str], help_text: str | None) -> click.Option:
    return click.Option(
        opts, is_flag=True, expose_value=False, callback=_set_flag, help=help_text, hidden=help_text is None
    )


def with_group_options(command: click.Command) -> click.Command:
    """``command`` (each command of a group: ``alias set``) taking the group's options after its name,
    once per process; an option a command already has is its own. Its help options are its own too
    (``-h`` as well as ``--help``), not only inherited from the group's context: click keeps a
    command's help option from the first context it is asked in, which need not be the group's."""
    if getattr(command, "_gitreg_group_options", False):
        return command
    command.context_settings.setdefault("help_option_names", list(HELP_OPTION_NAMES))
    # click builds a command's help option once and keeps it: one made before this (the command
    # invoked on its own first, as a test may) would keep only "--help" for the process
    if hasattr(command, "_help_option"):
        command._help_option = None
    if isinstance(command, click.Group):
        for sub in command.commands.values():
            with_group_options(sub)
    else:
        taken = {opt for p in command.params for opt in getattr(p, "opts", [])}
        command.params.extend(o for o in _group_options() if not taken.intersection(o.opts))
    command._gitreg_group_options = True  # type: ignore[attr-defined]
    return command


def _flush_registry_warnings() -> None:
    """What the command's writes left to say goes to stderr (through the library's logger), success or not."""
    from gitreg import locate

    for reg in locate.opened():
        reg.flush_warnings()


@click.group(cls=LazyGroup, context_settings={"help_option_names": list(HELP_OPTION_NAMES), "max_content_width": 100})
@click.option(
    "-r",
    "--registry",
    metavar="PATH",
    envvar="GITREG_REGISTRY",
    help="Registry to use (else GITREG_REGISTRY, else the one containing the current directory).",
)
@click.option(
    "--color",
    "color",
    type=click.Choice(COLOR_CHOICES),
    default="auto",
    show_default=True,
    help=COLOR_HELP,
)
@click.option("-q", "--quiet", is_flag=True, help=QUIET_HELP)
@click.option("-v", "--verbose", is_flag=True, help=VERBOSE_HELP)
@click.option("--traceback", is_flag=True, hidden=True, help="Show Python tracebacks (for debugging gitreg).")
@click.version_option(package_name=DISTRIBUTION, prog_name="gitreg", message="%(prog)s %(version)s")
@click.pass_context
def cli(ctx: click.Context, registry: str | None, color: str, quiet: bool, verbose: bool, traceback: bool) -> None:
    """gitreg: a model registry whose database is a git repository.

    Versions are commits and tags, stages are branches; load models anywhere
    with models:/NAME/VERSION or models:/NAME/STAGE.
    """
    from gitreg.cli.output import choose_color, show_library_warnings

    if quiet and verbose:
        raise click.UsageError(QUIET_AND_VERBOSE)
    ctx.color = choose_color(color)
    show_library_warnings(verbose=verbose)
    ctx.meta["gitreg.traceback"] = traceback
    ctx.meta["gitreg.quiet"] = quiet
    ctx.meta["gitreg.verbose"] = verbose
    ctx.obj = {"registry": registry}


def main() -> None:
    try:
        try:
            cli.main(prog_name="gitreg")
        finally:
            sys.stdout.flush()  # here, not at exit, so a reader gone away is handled below
    except BrokenPipeError:
        exit_broken_pipe()
    except KeyboardInterrupt:
        click.echo("Interrupted.", err=True)
        sys.exit(EXIT_INTERRUPTED)
