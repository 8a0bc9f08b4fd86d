"""``gitreg ui``: the registry browser."""

from __future__ import annotations

import socket

import click

from gitreg.cli.output import allowed_host_option, open_registry, registry_option, say, warn
from gitreg.ui.attribution import DEFAULT_EMAIL_HEADER, DEFAULT_USER_HEADER, EMAIL_HEADER_ENV, USER_HEADER_ENV


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@allowed_host_option
@click.option("--port", default=5000, show_default=True, type=click.IntRange(0, 65535), help="Port to listen on.")
@click.option(
    "--allow-writes",
    is_flag=True,
    help="Show forms that edit descriptions and tags, promote versions and register logged models.",
)
@click.option(
    "--trust-user-header",
    "user_header",
    metavar="HEADER",
    is_flag=False,
    flag_value=DEFAULT_USER_HEADER,
    envvar=USER_HEADER_ENV,
    show_envvar=True,
    default=None,
    help=f"Commit each write as the person this request header names ({DEFAULT_USER_HEADER} if no HEADER "
    "is given), as set by an authenticating proxy in front of the UI; a write without it is refused. "
    "Only when the proxy is the sole way to the port and strips the header from clients.",
)
@click.option(
    "--trust-email-header",
    "email_header",
    metavar="HEADER",
    is_flag=False,
    flag_value=DEFAULT_EMAIL_HEADER,
    envvar=EMAIL_HEADER_ENV,
    show_envvar=True,
    default=None,
    help=f"With --trust-user-header: the header holding that person's email ({DEFAULT_EMAIL_HEADER} if no "
    "HEADER is given).",
)
@registry_option
def ui(
    host: str,
    allowed_hosts: tuple[str, ...],
    port: int,
    allow_writes: bool,
    user_header: str | None,
    email_header: str | None,
    registry: str | None,
) -> None:
    """Browse the registry in a web browser (read-only unless --allow-writes)."""
    from gitreg.locate import set_registry
    from gitreg.server.hosts import HostPolicy
    from gitreg.ui.app import Settings
    from gitreg.ui.attribution import TrustedHeaders
    from gitreg.ui.serve import serve

    hosts = HostPolicy.build(allowed_hosts, bound=host)
    trusted = TrustedHeaders.named(user_header or None, email_header or None)
    reg = open_registry(registry)
    _check_port_free(host, port)
    set_registry(reg.path)  # logged models are found next to this registry
    if allow_writes and host not in ("127.0.0.1", "localhost", "::1"):
        warn([f"--allow-writes on {host}: anyone who can reach this port can change the registry."])
    mode = "writes allowed" if allow_writes else "read-only"
    if allow_writes and trusted.user is not None:
        mode += f", each committed as the person the {trusted.user} header names"
    say(f"Serving registry {reg.path} at http://{host}:{port}/ ({mode}); press Ctrl+C to stop.")
    serve(Settings(str(reg.path), allow_writes, hosts, trusted), host, port)


def _check_port_free(host: str, port: int) -> None:
    """Refuse in one line now rather than let gunicorn retry and log for seconds."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except OSError as exc:
        raise click.BadParameter(f"cannot listen on {host!r}: {exc.strerror or exc}", param_hint="--host") from None
    family, kind, proto, _, address = infos[0]
    with socket.socket(family, kind, proto) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(address)
        except OSError as exc:
            raise click.ClickException(
                f"Cannot listen on {host}:{port}: {exc.strerror or exc}. Choose another port with --port."
            ) from None
