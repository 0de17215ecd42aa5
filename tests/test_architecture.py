"""The package layout holds: imports only point down the layers, no cycles, no big modules, a light import."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "benchmark"

# Layers, bottom first (see ARCHITECTURE.md). A module may import its own package and lower layers only.
LAYERS = {
    "version": 0,
    "cpu": 0,
    "findings": 0,
    "endpoint": 0,
    "scoring": 1,
    "task": 2,
    "submission": 3,
    "adapters": 3,
    "authoring": 3,
    "suite": 3,
    "predicting": 4,
    "report": 5,
    "controls": 5,
    "scaleout": 5,
    "batching": 5,
    "planning": 6,
    "pooling": 6,
    "runner": 7,
    "validate": 7,
    "commands": 8,
    "cli": 9,
}


def _modules() -> dict[str, Path]:
    out = {}
    for p in PACKAGE.rglob("*.py"):
        parts = p.relative_to(PACKAGE.parent).with_suffix("").parts
        out[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = p
    return out


def _imports(path: Path) -> list[tuple[int, str]]:
    """Every benchmark import of a file (module-level, function-level and TYPE_CHECKING alike)."""
    out = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            out += [(node.lineno, a.name) for a in node.names if a.name.startswith("benchmark")]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and (node.module or "").startswith("benchmark"):
            out.append((node.lineno, node.module or ""))
            # `from benchmark.pkg import submodule` is an edge to the submodule
            out += [(node.lineno, f"{node.module}.{a.name}") for a in node.names]
    return out


def _part(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else None


def test_every_top_level_part_has_a_layer() -> None:
    parts = {p.stem if p.is_file() else p.name for p in PACKAGE.iterdir() if not p.name.startswith(("_", "."))}
    parts = {p for p in parts if (PACKAGE / p).is_dir() or (PACKAGE / f"{p}.py").is_file()}
    assert parts == set(LAYERS)


def test_imports_only_point_down() -> None:
    upward = []
    for module, path in _modules().items():
        here = _part(module)
        if here is None:
            continue  # benchmark/__init__.py: the public API, imported lazily by name
        for line, target in _imports(path):
            there = _part(target)
            # Nothing below the root imports the root (the version lives in benchmark/version.py, layer 0).
            assert there is not None and there != "__version__", f"{path}:{line} imports the package root"
            if there != here and LAYERS[there] >= LAYERS[here]:
                upward.append(f"{path.relative_to(PACKAGE.parent)}:{line} {module} -> {target}")
    assert upward == []


def test_no_import_cycles_between_modules() -> None:
    modules = _modules()

    def resolve(name: str) -> str | None:
        while name and name not in modules:
            name = name.rpartition(".")[0]
        return name or None

    # Edges into a package's __init__ are re-exports, not dependencies: they are followed to the submodules.
    graph = {
        m: {t for _, n in _imports(p) if (t := resolve(n)) and t != m and modules[t].name != "__init__.py"}
        for m, p in modules.items()
    }
    state: dict[str, int] = {}
    cycles = []

    def visit(node: str, stack: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                cycles.append(stack[stack.index(nxt) :] + [nxt] if nxt in stack else [node, nxt])
            elif nxt not in state:
                visit(nxt, [*stack, nxt])
        state[node] = 2

    for m in sorted(graph):
        if m not in state:
            visit(m, [m])
    assert cycles == []


@pytest.mark.parametrize("path", sorted(PACKAGE.rglob("*.py")), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_no_module_over_500_lines(path: Path) -> None:
    assert len(path.read_text(encoding="utf-8").splitlines()) <= 500


def test_import_and_help_load_no_model_library() -> None:
    code = (
        "import sys, benchmark, benchmark.cli, benchmark.runner, benchmark.report.site\n"
        "from typer.testing import CliRunner\n"
        "CliRunner().invoke(benchmark.cli.app, ['--help'])\n"
        "CliRunner().invoke(benchmark.cli.app, ['run', '--help'])\n"
        "heavy = ('torch', 'transformers', 'datasets', 'sentence_transformers', 'ray')\n"
        "heavy = [m for m in heavy if m in sys.modules]\n"
        "print(heavy)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
