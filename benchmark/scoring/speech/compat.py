"""Import shims for scoring packages that lag behind their dependencies."""

from __future__ import annotations

import importlib.metadata
import importlib.util
import sys
import types
from collections.abc import Iterator
from contextlib import contextmanager


def version(dist: str) -> str:
    """Installed version of a distribution, or ``"?"``."""
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return "?"


@contextmanager
def pkg_resources_stand_in() -> Iterator[None]:
    """Let ``pyworld`` 0.3.5 and ``webrtcvad`` 2.0.10 import where setuptools no longer ships ``pkg_resources``.

    Both import ``pkg_resources`` only to read their own version (setuptools 81 removed the
    module). Where it is missing, a stand-in answering ``get_distribution(name).version``
    from ``importlib.metadata`` is present for the duration of the import, then removed.
    """
    if "pkg_resources" in sys.modules or importlib.util.find_spec("pkg_resources") is not None:
        yield
        return
    stand_in = types.ModuleType("pkg_resources")
    stand_in.get_distribution = lambda name: types.SimpleNamespace(version=version(name))  # type: ignore[attr-defined]
    sys.modules["pkg_resources"] = stand_in
    try:
        yield
    finally:
        if sys.modules.get("pkg_resources") is stand_in:
            del sys.modules["pkg_resources"]
