"""The repository reads on its own: no source file or doc cites a design note that lives outside
it (the project's rules are in docs/architecture.md, "Ground rules")."""

from __future__ import annotations

from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def test_no_citation_of_an_outside_design_note():
    files = [REPO / "README.md", *sorted((REPO / "docs").rglob("*.md")), *sorted((REPO / "src").rglob("*.py")),
             *sorted((REPO / "src").rglob("*.md"))]  # fmt: skip
    assert len(files) > 20
    hits = [f"{p.relative_to(REPO)}:{i}" for p in files for i, line in enumerate(p.read_text().splitlines(), 1)
            if "DESIGN.md" in line]  # fmt: skip
    assert hits == []
