"""Random sequences of writes (and of writers killed mid-write) against a
plain-Python model of the intended registry: after every step gitreg's reads
equal the model, every storage invariant holds, and version numbers are never
reused, across deletes, renames and re-created names."""

from __future__ import annotations

import copy
import os
import signal
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from helpers.invariants import check_registry
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from gitreg.errors import GitregError
from gitreg.registry import Package, Registry
from gitreg.uri import parse

NAMES = ["a", "b", "c"]
STAGES = ["staging", "production", "archived", "champion"]
DISPLAY = {"staging": "Staging", "production": "Production", "archived": "Archived", "champion": "champion"}


@dataclass
class Model:
    versions: dict[int, bytes] = field(default_factory=dict)  # live versions
    stages: dict[str, int] = field(default_factory=dict)
    next_version: int = 1


class RegistryMachine(RuleBasedStateMachine):
    bare = True

    def __init__(self) -> None:
        super().__init__()
        self.root = Path(tempfile.mkdtemp(prefix="gitreg-sm-"))
        self.reg = Registry.init(self.root / "reg", bare=self.bare)
        self.models: dict[str, Model] = {}
        self.used: dict[str, int] = {}  # name -> highest version number it ever had
        self.count = 0

    def teardown(self) -> None:
        self.reg.close()

    def package(self) -> tuple[Package, bytes]:
        self.count += 1
        d = self.root / f"src-{self.count}"
        d.mkdir()
        data = f"content {self.count} {time.time_ns()}".encode()
        (d / "data.bin").write_bytes(data)
        return Package(d, ("data.bin",), "python_function"), data

    # -- the model's rules ---------------------------------------------------

    def apply_register(self, models: dict[str, Model], name: str, data: bytes) -> int:
        m = models.setdefault(name, Model(next_version=self.used.get(name, 0) + 1))
        v = m.next_version
        m.versions[v], m.next_version = data, v + 1
        return v

    # -- rules -----------------------------------------------------------------

    @rule(name=st.sampled_from(NAMES))
    def create_model(self, name: str) -> None:
        if name in self.models:
            with pytest.raises(GitregError):
                self.reg.create_model(name)
            return
        self.reg.create_model(name)
        self.models[name] = Model(next_version=self.used.get(name, 0) + 1)

    @rule(name=st.sampled_from(NAMES))
    def register(self, name: str) -> None:
        package, data = self.package()
        mv = self.reg.register(name, package)
        assert mv.version == self.apply_register(self.models, name, data)
        self.used[name] = mv.version

    @rule(name=st.sampled_from(NAMES), pick=st.integers(0, 5), stage=st.sampled_from(STAGES[:3]), archive=st.booleans())
    def promote(self, name: str, pick: int, stage: str, archive: bool) -> None:
        m = self.models.get(name)
        if not m or not m.versions:
            return
        v = sorted(m.versions)[pick % len(m.versions)]
        self.reg.promote(name, v, DISPLAY[stage], archive_existing=archive)
        self.apply_promote(m, v, stage, archive)

    @staticmethod
    def apply_promote(m: Model, v: int, stage: str, archive: bool) -> None:
        previous = m.stages.get(stage)
        fixed = stage != "champion"
        if fixed:
            for s, held in list(m.stages.items()):
                if s != stage and s != "champion" and held == v:
                    del m.stages[s]
        m.stages[stage] = v
        if archive and previous is not None and previous != v and stage != "archived":
            m.stages["archived"] = previous

    @rule(name=st.sampled_from(NAMES), pick=st.integers(0, 5))
    def set_alias(self, name: str, pick: int) -> None:
        m = self.models.get(name)
        if not m or not m.versions:
            return
        v = sorted(m.versions)[pick % len(m.versions)]
        self.reg.set_alias(name, "champion", v)
        m.stages["champion"] = v

    @rule(name=st.sampled_from(NAMES), stage=st.sampled_from(STAGES))
    def demote(self, name: str, stage: str) -> None:
        m = self.models.get(name)
        if not m:
            return
        assert self.reg.demote(name, DISPLAY[stage]) == m.stages.pop(stage, None)

    @rule(name=st.sampled_from(NAMES), pick=st.integers(0, 5))
    def delete_version(self, name: str, pick: int) -> None:
        m = self.models.get(name)
        if not m or not m.versions:
            return
        v = sorted(m.versions)[pick % len(m.versions)]
        self.reg.delete_version(name, v)
        self.apply_delete(m, v)

    @staticmethod
    def apply_delete(m: Model, v: int) -> None:
        del m.versions[v]
        m.stages = {s: held for s, held in m.stages.items() if held != v}

    @rule(name=st.sampled_from(NAMES))
    def delete_model(self, name: str) -> None:
        if name not in self.models:
            return
        self.reg.delete_model(name)
        del self.models[name]

    @rule(name=st.sampled_from(NAMES), new=st.sampled_from(NAMES))
    def rename_model(self, name: str, new: str) -> None:
        if name not in self.models:
            return
        if new in self.models or self.used.get(new):  # taken, or its numbers are history
            with pytest.raises(GitregError):
                self.reg.rename_model(name, new)
            return
        self.reg.rename_model(name, new)
        self.models[new] = self.models.pop(name)
        self.used[new] = max(self.models[new].versions, default=0)
        if not self.used[new]:
            del self.used[new]

    @rule(
        kind=st.sampled_from(["register", "promote", "delete_version"]),
        name=st.sampled_from(NAMES),
        delay=st.floats(0, 0.03),
    )
    def crash(self, kind: str, name: str, delay: float) -> None:
        """A writer killed after ``delay``: the registry ends either before or after its write."""
        m = self.models.get(name)
        if kind != "register" and (not m or not m.versions):
            return
        after = copy.deepcopy(self.models)
        package, data = self.package()
        v = max(m.versions) if m and m.versions else 0
        if kind == "register":
            self.apply_register(after, name, data)
        elif kind == "promote":
            self.apply_promote(after[name], v, "production", True)
        else:
            self.apply_delete(after[name], v)
        pid = os.fork()
        if pid == 0:
            try:
                os.setsid()
                reg = Registry.open(self.reg.path)
                if kind == "register":
                    reg.register(name, package)
                elif kind == "promote":
                    reg.promote(name, v, "Production", archive_existing=True)
                else:
                    reg.delete_version(name, v)
            finally:
                os._exit(0)
        time.sleep(delay)
        try:
            os.killpg(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        os.waitpid(pid, 0)
        seen = self.observe()
        candidates = [self.models, after]
        if kind == "promote":  # each stage branch of a promotion moves on its own (see writer.py)
            for s in set(after[name].stages) | set(self.models[name].stages):
                part = copy.deepcopy(self.models)
                if s in after[name].stages:
                    part[name].stages[s] = after[name].stages[s]
                else:
                    part[name].stages.pop(s, None)
                candidates.append(part)
        matching = [c for c in candidates if self.summary(c) == seen]
        assert matching, (kind, seen, [self.summary(c) for c in candidates])
        self.models = matching[-1]
        if kind == "register" and self.models is after:
            self.used[name] = after[name].next_version - 1
        time.sleep(1.1 if kind == "register" else 0)  # a killed registration's tag is replaced once stale

    # -- checks ----------------------------------------------------------------

    def summary(self, models: dict[str, Model]) -> dict[str, tuple]:
        return {n: (dict(m.versions), dict(m.stages), m.next_version) for n, m in models.items()}

    def observe(self) -> dict[str, tuple]:
        out = {}
        for name in self.reg.model_names():
            live = self.reg.version_numbers(name)
            contents = {
                v: self.reg.store.read_blob(f"{self.reg.version_ref(name, v).tree}:data.bin") or b"" for v in live
            }
            out[name] = (contents, self.reg.stages_of(name), self.reg.record(name).next_version)
        return out

    @invariant()
    def reads_equal_the_model(self) -> None:
        assert self.observe() == self.summary(self.models)
        for name, m in self.models.items():
            model = self.reg.get_model(name)
            assert model.aliases == {DISPLAY[s]: v for s, v in sorted(m.stages.items())}
            for v in m.versions:
                assert self.reg.resolve(parse(f"models:/{name}/{v}")).version == v
            if m.versions:
                assert self.reg.resolve(parse(f"models:/{name}/latest")).version == max(m.versions)
            for s, v in m.stages.items():
                assert self.reg.resolve(parse(f"models:/{name}/{DISPLAY[s]}")).version == v

    @invariant()
    def storage_invariants_hold(self) -> None:
        assert check_registry(self.reg.path, fsck=False, settled=False) == []


SETTINGS = settings(
    max_examples=20,
    stateful_step_count=16,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,
)


class BareRegistry(RegistryMachine):
    bare = True


class WorkTreeRegistry(RegistryMachine):
    bare = False


TestBareRegistry = pytest.mark.slow(BareRegistry.TestCase)
TestBareRegistry.settings = SETTINGS
TestWorkTreeRegistry = pytest.mark.slow(WorkTreeRegistry.TestCase)
TestWorkTreeRegistry.settings = SETTINGS
