"""Which package may import which: checked on the source text (ast), so a lazy import inside a
function counts as much as one at the top of a module.

genome/ is the bottom layer (files, sequences, annotations): it imports nothing from the layers
that use it (evaluate/, predict/, cli/). The command line is the top: nothing but cli/ itself and
`python -m genet5` imports it, bench/ scripts included.
"""

from __future__ import annotations

import ast
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SRC = REPO / "src" / "genet5"


def imported_modules(path: Path) -> list[tuple[int, str]]:
    """(line, absolute module name) of every import in a file; relative imports are resolved
    for files of the package (scripts outside it have none)."""
    package = ["genet5", *path.relative_to(SRC).parent.parts] if path.is_relative_to(SRC) else []
    out = []
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            out.extend((node.lineno, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - node.level + 1]
                name = ".".join(base + ([node.module] if node.module else []))
            else:
                name = node.module or ""
            out.append((node.lineno, name))
            # `from genet5 import cli` imports genet5.cli
            out.extend((node.lineno, f"{name}.{alias.name}") for alias in node.names)
    return out


def violations(files, forbidden: tuple[str, ...]) -> list[str]:
    bad = []
    for path in files:
        for line, name in imported_modules(path):
            if any(name == f or name.startswith(f + ".") for f in forbidden):
                bad.append(f"{path.relative_to(REPO)}:{line} imports {name}")
    return sorted(set(bad))


def test_relative_imports_resolve():
    names = {n for _, n in imported_modules(SRC / "genome" / "gtf_writer.py")}
    assert "genet5.atomic" in names and "genet5.genome.models" in names


def test_genome_imports_no_higher_layer():
    files = sorted((SRC / "genome").rglob("*.py"))
    assert len(files) > 5
    assert violations(files, ("genet5.evaluate", "genet5.predict", "genet5.cli")) == []


def test_nothing_but_the_cli_imports_the_cli():
    """Library modules and bench scripts take what they need from the library, never from
    genet5.cli (bench/ measures the library, not the argument parser)."""
    files = [p for p in sorted(SRC.rglob("*.py")) if p.relative_to(SRC).parts[0] not in ("cli", "__main__.py")]
    files += sorted((REPO / "bench").rglob("*.py"))
    assert len(files) > 20
    assert violations(files, ("genet5.cli",)) == []
