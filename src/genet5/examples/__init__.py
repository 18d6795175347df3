"""Small example genomes shipped inside the package (see each folder's README.md)."""

from __future__ import annotations

from pathlib import Path

EXAMPLES = Path(__file__).resolve().parent


def example_path(name: str = "phage_NC_016566") -> Path:
    path = EXAMPLES / name
    if not path.is_dir():
        known = ", ".join(sorted(p.name for p in EXAMPLES.iterdir() if p.is_dir() and not p.name.startswith("_")))
        raise FileNotFoundError(f"no bundled example {name!r}; known: {known}")
    return path
