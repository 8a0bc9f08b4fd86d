"""Big artifacts through the transports users have: the registry over git's
smart HTTP (``git http-backend``) and its LFS objects on a real Git LFS server
(giftless, from the package index) over HTTP, both on 127.0.0.1. The registry
names its LFS server in a committed ``.lfsconfig``, as git-lfs documents for a
server that is not at ``<repository URL>/info/lfs``."""

from __future__ import annotations

import os
import pickle
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from helpers.git_http import serve_git_http
from helpers.gitcli import git, refs
from helpers.lfs_server import TOKEN_USER, LFSServer, lfs_server

import gitreg
from gitreg import locate
from gitreg.check import check_registry
from gitreg.config import DEFAULT_LFS_THRESHOLD
from gitreg.errors import GitError
from gitreg.registry import Registry
from gitreg.store import lfs
from gitreg.testing import run_cli

SIZE = DEFAULT_LFS_THRESHOLD + 1  # just over 10 MiB: a new registry keeps it in LFS
MODEL_FILE = "python_model.pkl"


def _save_big_model(path: Path, version: int) -> Path:
    """A python_function model whose pickle is over the LFS threshold and says which version it is."""

    class Weights(gitreg.pyfunc.PythonModel):
        def __init__(self) -> None:
            self.version = version
            self.weights = os.urandom(SIZE)

        def predict(self, context: Any, model_input: Any, params: Any = None) -> Any:
            return [self.version] * len(model_input)

    gitreg.pyfunc.save_model(path, Weights())
    return path


def _register(url: str, tmp_path: Path, version: int) -> str:
    """Register version ``version`` of Big at ``url``; the sha256 of its pickle."""
    mv = gitreg.register_model(str(_save_big_model(tmp_path / f"model-v{version}", version)), "Big", registry=url)
    assert int(mv.version) == version
    return _pickle_sha(locate.open_registry(url), version)


def _pickle_sha(reg: Any, version: int) -> str:
    manifest = reg.version_ref("Big", version).manifest
    return str(next(a.sha256 for a in manifest.artifacts if a.path == MODEL_FILE))


def _point_at(bare: Path, lfs_url: str, tmp_path: Path) -> None:
    """Commit ``.lfsconfig`` naming ``lfs_url`` on main, the way a user would: clone, edit, commit, push."""
    work = tmp_path / "config-work"
    subprocess.run(["git", "clone", "-q", str(bare), str(work)], check=True)
    git(work, "config", "-f", ".lfsconfig", "lfs.url", lfs_url)
    git(work, "add", ".lfsconfig")
    git(work, "commit", "-q", "-m", "Keep large artifacts on our LFS server")
    git(work, "push", "-q", "origin", "main")


def _as_another_machine(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str) -> None:
    """A fresh cache (so a fresh mirror, no LFS objects) from now on."""
    monkeypatch.setenv("GITREG_CACHE_DIR", str(tmp_path / name))
    locate._open.clear()


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[Registry, str]]:
    """A new bare registry, pushable over smart HTTP: (the registry, its http:// URL)."""
    root = tmp_path / "srv"
    reg = Registry.init(root / "reg.git", bare=True)
    git(reg.path, "config", "http.receivepack", "true")
    with serve_git_http(root) as base:
        yield reg, f"{base}/reg.git"


Served = tuple[Registry, str, LFSServer]  # the bare registry, its http:// URL, the LFS server it names


def _with_lfs(served: tuple[Registry, str], tmp_path: Path, auth: str) -> Iterator[Served]:
    origin, url = served
    with lfs_server(tmp_path / "lfs", auth=auth) as server:
        _point_at(origin.path, server.url("gitreg", "reg"), tmp_path)
        yield origin, url, server


@pytest.fixture
def anonymous(served: tuple[Registry, str], tmp_path: Path) -> Iterator[Served]:
    """An LFS server anyone may read and write."""
    yield from _with_lfs(served, tmp_path, "anonymous")


@pytest.fixture
def token_only(served: tuple[Registry, str], tmp_path: Path) -> Iterator[Served]:
    """An LFS server that answers 401 to anyone without its token."""
    yield from _with_lfs(served, tmp_path, "token")


@pytest.fixture
def read_only(served: tuple[Registry, str], tmp_path: Path) -> Iterator[Served]:
    """An LFS server anyone may read and nobody may write to: 403 to an upload."""
    yield from _with_lfs(served, tmp_path, "read-only")


def test_a_url_registry_keeps_a_big_artifact_on_the_lfs_server_and_a_pointer_in_git(
    anonymous: Served, tmp_path: Path
) -> None:
    origin, url, server = anonymous
    sha = _register(url, tmp_path, 1)
    ref = origin.version_ref("Big", 1)
    pointer = lfs.parse_pointer(origin.store.read_blob(f"{ref.tree}:{MODEL_FILE}") or b"")
    assert pointer is not None and pointer.sha256 == sha and pointer.size > SIZE
    assert server.stored() == {sha}
    assert not (origin.path / "lfs").exists()  # not a byte of it on the git server
    assert origin.store.read_blob("refs/heads/main:.lfsconfig")  # registering kept the registry's LFS setting
    assert check_registry(origin.store) == []


def test_a_fresh_reader_downloads_only_the_loaded_versions_object_from_the_lfs_server(
    anonymous: Served, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, url, server = anonymous
    shas = {v: _register(url, tmp_path, v) for v in (1, 2, 3)}
    assert server.stored() == set(shas.values())
    assert server.downloads() == []

    _as_another_machine(tmp_path, monkeypatch, "reader-cache")
    model = gitreg.pyfunc.load_model("models:/Big/2", registry=url)
    assert model.predict([[0]]) == [2]
    assert server.downloads() == [shas[2]]
    mirror = locate.open_registry(url).store.git_dir
    assert {p.name for p in (mirror / "lfs" / "objects").glob("??/??/*")} == {shas[2]}


def test_an_object_tampered_with_on_the_lfs_server_is_refused_before_it_is_unpickled(
    anonymous: Served, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, url, server = anonymous
    sha = _register(url, tmp_path, 1)
    marker = tmp_path / "unpickled"
    (stored,) = (p for p in server.storage.rglob(sha))
    evil = pickle.dumps(_Touch(marker))
    stored.write_bytes(evil + bytes(stored.stat().st_size - len(evil)))  # same size: only the hash can tell

    _as_another_machine(tmp_path, monkeypatch, "reader-cache")
    with pytest.raises(GitError, match=f"{MODEL_FILE}.*expected OID {sha}"):  # git-lfs checks what it downloads
        gitreg.pyfunc.load_model("models:/Big/1", registry=url)
    assert not marker.exists()
    assert not list((tmp_path / "reader-cache").rglob(MODEL_FILE))


class _Touch:
    """A pickle that creates ``path`` when it is loaded: proof that it was."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def __reduce__(self) -> tuple[Any, tuple[str, str]]:
        return open, (str(self.path), "w")


def test_an_lfs_server_answering_401_refuses_the_registration_and_changes_nothing(
    token_only: Served, tmp_path: Path
) -> None:
    origin, url, server = token_only
    before = refs(origin.path)
    with pytest.raises(lfs.LFSAccessDenied) as caught:
        _register(url, tmp_path, 1)
    message = str(caught.value)
    assert "401" in message and server.base in message
    assert "credential helper" in message and "the remote registry is as it was" in message
    assert refs(origin.path) == before  # no tag, main where it was
    assert server.stored() == set()
    _store_credentials(server, server.token())
    again = _register(url, tmp_path / "again", 1)  # the refusal used up no version number
    assert server.stored() == {again}  # and the refused write's object is not sent with this one


def test_the_cli_reports_the_lfs_servers_refusal_in_one_line_and_exit_1(token_only: Served, tmp_path: Path) -> None:
    origin, url, server = token_only
    before = refs(origin.path)
    out = run_cli("register", "Big", str(_save_big_model(tmp_path / "model", 1)), "-r", url)
    assert out.returncode == 1, out.stderr
    assert out.stderr.startswith("Error: Could not upload 1 large artifact") and "Traceback" not in out.stderr
    assert server.base in out.stderr and "401" in out.stderr
    assert refs(origin.path) == before


def test_an_lfs_server_answering_403_refuses_the_registration_and_changes_nothing(
    read_only: Served, tmp_path: Path
) -> None:
    origin, url, server = read_only
    before = refs(origin.path)
    with pytest.raises(lfs.LFSAccessDenied) as caught:
        _register(url, tmp_path, 1)
    message = str(caught.value)
    assert "403" in message and server.base in message and "the remote registry is as it was" in message
    assert refs(origin.path) == before
    assert server.stored() == set()


def _store_credentials(server: LFSServer, token: str) -> None:
    """What a user does once: git's ``store`` credential helper holding the server's token."""
    home = Path(os.environ["HOME"])
    (home / ".git-credentials").write_text(f"http://{TOKEN_USER}:{token}@{server.base.removeprefix('http://')}\n")
    subprocess.run(["git", "config", "--global", "credential.helper", "store"], check=True)


def test_credentials_the_lfs_server_does_not_accept_are_refused_and_change_nothing(
    token_only: Served, tmp_path: Path
) -> None:
    origin, url, server = token_only
    _store_credentials(server, "not-a-token")
    before = refs(origin.path)
    with pytest.raises(lfs.LFSAccessDenied, match="401: it wants credentials and git has none it accepts"):
        _register(url, tmp_path, 1)
    assert refs(origin.path) == before
    assert server.stored() == set()


def test_credentials_from_a_git_credential_helper_reach_the_lfs_server(
    token_only: Served, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, url, server = token_only
    _store_credentials(server, server.token())
    sha = _register(url, tmp_path, 1)
    assert server.stored() == {sha}
    _as_another_machine(tmp_path, monkeypatch, "reader-cache")
    assert gitreg.pyfunc.load_model("models:/Big/1", registry=url).predict([[0]]) == [1]
    assert server.downloads() == [sha]


def test_a_reader_without_credentials_is_told_how_to_give_them(
    token_only: Served, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, url, server = token_only
    _store_credentials(server, server.token())
    _register(url, tmp_path, 1)
    (Path(os.environ["HOME"]) / ".git-credentials").unlink()
    _as_another_machine(tmp_path, monkeypatch, "reader-cache")
    with pytest.raises(lfs.LFSAccessDenied) as caught:
        gitreg.pyfunc.load_model("models:/Big/1", registry=url)
    message = str(caught.value)
    assert "401" in message and MODEL_FILE in message and "credential helper" in message
