"""Shared test helpers: where the real genomes live (../shared/genomes), skipping cleanly without
them; running the command line (in this process or as a shell would); a free port for
torch.distributed. Test files import them with `from conftest import ...`."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
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


# --- the command line ----------------------------------------------------------------------------

CLI = [sys.executable, "-m", "genet5"]  # the installed entry point, as a shell runs it


def run_cli(*args, timeout: float = 600, **kwargs) -> subprocess.CompletedProcess:
    """`python -m genet5 ARGS` in a subprocess, text output captured."""
    return subprocess.run([*CLI, *map(str, args)], capture_output=True, text=True, timeout=timeout, **kwargs)


def invoke(*args):
    """`genet5 ARGS` in this process (typer's CliRunner), with every command group loaded (with
    one group only, typer would drop the subcommand name)."""
    from typer.testing import CliRunner

    from genet5.cli import _load_commands
    from genet5.cli.app import app

    _load_commands([])  # every group
    return CliRunner().invoke(app, [str(a) for a in args])


# --- torch.distributed -------------------------------------------------------------------------


def free_port() -> int:
    """A TCP port on 127.0.0.1 that is free now (the rendezvous of a multi-process test)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def constraint_walk(constraint, rng, steps: int, weight, label: str = "", check=None) -> tuple[list[int], list[int]]:
    """A random walk over what a gene-structure constraint (models/genet5_decoding.py) allows for
    row 0: each step samples a token type (`weight(allowed)` gives relative weights, e.g. EOS
    made rare so walks get somewhere) and, for pointer tokens, a pointer uniformly among those
    allowed; stops at EOS. Asserts that a token, and for pointer tokens a pointer, is always on
    offer (no dead end); `check(allowed)` may assert more at every step. Returns (types, pointers)."""
    import numpy as np

    from genet5.tokenizers.annotation import IGNORE, POINTER_TOKENS, Tok

    types, ptrs = [], []
    for _ in range(steps):
        allowed = np.flatnonzero(constraint.allowed_types(0))
        assert len(allowed), f"dead end ({label})"
        if check is not None:
            check(allowed)
        w = weight(allowed)
        t = int(rng.choice(allowed, p=w / w.sum()))
        p = IGNORE
        if t in POINTER_TOKENS:
            cand = np.flatnonzero(constraint.allowed_pointers(0, t))
            assert len(cand), f"no pointer for {Tok(t).name} ({label})"
            p = int(rng.choice(cand))
        constraint.advance(0, t, p)
        types.append(t)
        ptrs.append(p)
        if t == Tok.EOS:
            break
    return types, ptrs
