"""``gitreg serve`` takes its address first: bound before the model loads, refusing clients until it listens."""

from __future__ import annotations

import socket

import pytest

from gitreg.errors import InvalidInputError
from gitreg.server.listener import bind


def test_a_bound_address_refuses_clients_until_the_server_listens() -> None:
    with bind("127.0.0.1", 0) as sock:
        port = sock.getsockname()[1]
        with pytest.raises(ConnectionRefusedError):  # refused at once, not queued behind a model load
            socket.create_connection(("127.0.0.1", port), timeout=5).close()
        sock.listen()
        socket.create_connection(("127.0.0.1", port), timeout=5).close()


def test_a_taken_port_is_one_line_naming_the_address_and_the_fix() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(InvalidInputError) as caught:
            bind("127.0.0.1", port)
    (line,) = str(caught.value).splitlines()
    assert (
        line
        == f"Cannot serve on 127.0.0.1:{port}: Address already in use. Choose another --port (or stop what uses it)."
    )


def test_an_unknown_host_is_refused_with_what_to_check() -> None:
    with pytest.raises(InvalidInputError, match=r"^Cannot serve on no-such-host\.invalid:5001: .*Check --host\.$"):
        bind("no-such-host.invalid", 5001)
