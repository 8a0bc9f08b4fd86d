"""Fixtures for the UI tests: the registry of :mod:`ui_support` and a ``gitreg ui`` on it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from browser_support import browser, page, page_without_js  # noqa: F401  (fixtures for the browser tests)
from ui_support import UiServer, build_registry, start_ui, stop

from gitreg.registry import Registry


@pytest.fixture
def ui_registry(tmp_path: Path, seed_model: object) -> Registry:
    return build_registry(tmp_path, seed_model)


@pytest.fixture
def ui_server(ui_registry: Registry) -> Iterator[UiServer]:
    proc, url = start_ui(ui_registry.path, allow_writes=False)
    yield UiServer(url, ui_registry, proc)
    stop(proc)


@pytest.fixture
def ui_writer(ui_registry: Registry) -> Iterator[UiServer]:
    proc, url = start_ui(ui_registry.path, allow_writes=True)
    yield UiServer(url, ui_registry, proc)
    stop(proc)
