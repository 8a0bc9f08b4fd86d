"""scikit-learn models saved with skops instead of pickle: loading builds only
types skops trusts by default plus those the *loader* trusts (the caller's
list or registry.yaml), never a list shipped in the model or its manifest."""

from __future__ import annotations

import operator
import subprocess
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml

import gitreg.pyfunc
import gitreg.sklearn
from gitreg.errors import InvalidInputError
from gitreg.registry import Registry

pytest.importorskip("skops")
X = np.array([[1.0], [2.0], [3.0], [4.0], [5.0], [0.5]])
Y = [0, 0, 1, 1, 1, 0]


def negating_pipeline() -> Any:
    """A pipeline holding a function skops does not trust by default: ``_operator.neg``."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import FunctionTransformer

    return make_pipeline(FunctionTransformer(operator.neg), LogisticRegression()).fit(X, Y)


def test_default_trusted_estimator_round_trips_without_a_pickle(registry: Registry, seed_model: Any):
    info = gitreg.sklearn.log_model(seed_model, "model", "lr", serialization_format="skops", registry=registry)
    files = {a.path for a in registry.version_ref("lr", 1).manifest.artifacts}
    assert "model.skops" in files and not any(f.endswith(".pkl") for f in files)
    loaded = gitreg.sklearn.load_model("models:/lr/1", registry=registry)
    assert list(loaded.predict(np.array([[2.0], [-2.0]]))) == list(seed_model.predict(np.array([[2.0], [-2.0]])))
    assert info.registered_model_version == 1


def test_untrusted_type_is_refused_naming_it_and_loads_when_the_caller_trusts_it(registry: Registry):
    model = negating_pipeline()
    gitreg.sklearn.log_model(model, "model", "neg", serialization_format="skops", registry=registry)
    with pytest.raises(InvalidInputError, match=r"not trusted: _operator\.neg\. .*trusted_types"):
        gitreg.pyfunc.load_model("models:/neg/1", registry=registry)
    loaded = gitreg.sklearn.load_model("models:/neg/1", registry=registry, trusted_types=["_operator.neg"])
    assert list(loaded.predict(X)) == list(model.predict(X))


def test_trust_comes_from_registry_yaml(registry: Registry):
    gitreg.sklearn.log_model(negating_pipeline(), "model", "neg", serialization_format="skops", registry=registry)
    config_path = registry.path / "registry.yaml"
    config = yaml.safe_load(config_path.read_text())
    config["trusted_types"] = ["_operator.neg"]
    config_path.write_text(yaml.safe_dump(config))
    subprocess.run(["git", "-C", str(registry.path), "commit", "-qam", "Trust operator.neg"], check=True)
    assert registry.trusted_types() == ("_operator.neg",)
    assert gitreg.pyfunc.load_model("models:/neg/1", registry=registry).predict(X) is not None


def test_a_trust_list_inside_the_model_is_ignored(registry: Registry, tmp_path: Path):
    saved = tmp_path / "saved"
    gitreg.sklearn.save_model(negating_pipeline(), saved, serialization_format="skops")
    mlmodel = yaml.safe_load((saved / "MLmodel").read_text())
    mlmodel["flavors"]["sklearn"]["trusted_types"] = ["_operator.neg"]
    mlmodel["trusted_types"] = ["_operator.neg"]
    (saved / "MLmodel").write_text(yaml.safe_dump(mlmodel))
    gitreg.register_model(str(saved), "neg", registry=registry)
    with pytest.raises(InvalidInputError, match=r"_operator\.neg"):
        gitreg.pyfunc.load_model("models:/neg/1", registry=registry)
