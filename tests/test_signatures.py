"""``require_signed`` (and ``gitreg serve --require-signed``): a version loads
only if git verifies its tag and, through a stage, its promotion commit."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from helpers.gitcli import git
from served_models import Constant

import gitreg.pyfunc
from gitreg import testing
from gitreg.errors import IntegrityError
from gitreg.registry import Registry


def Echo() -> Constant:  # pickled by value, so the server process can load it
    return Constant(1)


@pytest.fixture
def signed(registry: Registry, tmp_path: Path) -> Registry:
    """v1 with a signed tag, promoted to Production by a signed commit and to
    Staging by an unsigned one; v2 with an unsigned tag, promoted signed."""
    key = tmp_path / "signing_key"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "t", "-f", str(key)], check=True)
    allowed = tmp_path / "allowed_signers"
    allowed.write_text(f"author@example.com {(tmp_path / 'signing_key.pub').read_text().strip()}\n")
    git(registry.path, "config", "gpg.format", "ssh")
    git(registry.path, "config", "user.signingkey", str(key))
    git(registry.path, "config", "gpg.ssh.allowedSignersFile", str(allowed))
    store = registry.store
    store.sign_tags = True
    gitreg.pyfunc.log_model("v1", python_model=Echo(), registered_model_name="m", registry=registry)
    store.sign_tags = False
    gitreg.pyfunc.log_model("v2", python_model=Echo(), registered_model_name="m", registry=registry)
    store.sign_commits = True
    registry.promote("m", 1, "Production")
    registry.set_alias("m", "champion", 2)
    store.sign_commits = False
    registry.promote("m", 1, "Staging", exclusive_fixed=False)
    return registry


def test_signed_tag_and_signed_promotion_load(signed: Registry):
    model = gitreg.pyfunc.load_model("models:/m/Production", registry=signed, require_signed=True)
    assert model.metadata.version == 1
    assert gitreg.pyfunc.load_model("models:/m/1", registry=signed, require_signed=True).metadata.version == 1


@pytest.mark.parametrize(
    ("uri", "words"),
    [
        ("models:/m/2", "tag m/v2 has no valid signature"),
        ("models:/m/latest", "tag m/v2 has no valid signature"),
        ("models:/m@champion", "tag m/v2 has no valid signature"),  # signed promotion, unsigned tag
        ("models:/m/Staging", "the promotion to staging"),  # signed tag, unsigned promotion
    ],
)
def test_unsigned_tag_or_promotion_is_refused_naming_it(signed: Registry, uri: str, words: str):
    with pytest.raises(IntegrityError, match=words):
        gitreg.pyfunc.load_model(uri, registry=signed, require_signed=True)
    assert gitreg.pyfunc.load_model(uri, registry=signed).predict([[0]]) == [1]  # without the gate it loads


def test_serve_require_signed_refuses_an_unsigned_version_and_serves_a_signed_one(signed: Registry, env):
    out = testing.run_cli("serve", "-m", "models:/m/Staging", "--require-signed", "-r", str(signed.path), env=env)
    assert out.returncode != 0 and "promotion to staging" in out.stderr and "Traceback" not in out.stderr
    args = ("-m", "models:/m/Production", "--require-signed", "-r", str(signed.path))
    with testing.ScoringServer(*args, env=env) as server:
        assert server.post("/invocations", '{"inputs": [[0]]}').json() == {"predictions": [1]}


def test_a_followed_stage_keeps_serving_the_signed_version_when_an_unsigned_one_is_promoted(signed: Registry):
    from gitreg import uri as uris
    from gitreg.server.follow import ModelSet, UriSource

    models = ModelSet(UriSource(uris.parse("models:/m/Production"), signed, True), keep_missing=True, default_name="m")
    models.sync(initial=True)
    assert models.get("m").metadata.version == 1
    signed.store.sign_commits = True
    signed.promote("m", 2, "Production")  # a signed move of a version whose tag is unsigned
    [event] = models.sync()
    assert "refusing the new version" in event and "tag m/v2 has no valid signature" in event
    assert models.get("m").metadata.version == 1
