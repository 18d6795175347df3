"""Shared test helpers: where the real genomes live (../shared/genomes), skipping cleanly without them."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
DATA = Path(__file__).resolve().parent / "data"


def shared_genomes_dir() -> Path | None:
    """The shared genome collection: $GENET5_SHARED/genomes or ../shared/genomes (beside the clone)."""
    candidates = []
    if os.environ.get("GENET5_SHARED"):
        candidates.append(Path(os.environ["GENET5_SHARED"]) / "genomes")
    candidates.append(REPO.parent / "shared" / "genomes")
    for c in candidates:
        if (c / "manifest.tsv").is_file():
            return c
    return None


def shared_file(relpath: str) -> Path:
    """A file under the shared genomes, or skip the test saying what is missing."""
    root = shared_genomes_dir()
    if root is None:
        pytest.skip("shared genomes not found (../shared/genomes or $GENET5_SHARED); real-data test skipped")
    path = root / relpath
    if not path.exists():
        pytest.skip(f"shared file {relpath} not found under {root}")
    return path


@pytest.fixture
def shared_genomes() -> Path:
    root = shared_genomes_dir()
    if root is None:
        pytest.skip("shared genomes not found (../shared/genomes or $GENET5_SHARED); real-data test skipped")
    return root


@pytest.fixture
def data_dir() -> Path:
    return DATA
