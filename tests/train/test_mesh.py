"""The device mesh (train/mesh.py): the layout of ranks on the data x expert x context axes, the
groups along them, the one-line refusals; and model code that knows nothing of parallelism.
The groups themselves are built and used by the 2-process runs of tests/cli/test_lm_pretrain.py
(context parallel, expert parallel)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from genet5.train.config import ParallelConfig, RunConfigError
from genet5.train.mesh import ParallelDims

SRC = Path(__file__).resolve().parents[2] / "src" / "genet5"


def test_layout_of_eight_ranks_on_three_axes():
    dims = ParallelDims(8, context=2, expert=2)
    assert (dims.data, dims.batch_world) == (2, 4)
    assert [tuple(dims.coords(r).values()) for r in range(8)] == [
        (0, 0, 0), (0, 0, 1), (0, 1, 0), (0, 1, 1), (1, 0, 0), (1, 0, 1), (1, 1, 0), (1, 1, 1)]  # fmt: skip
    assert all(dims.rank_of(**dims.coords(r)) == r for r in range(8))
    groups = dims.group_ranks()
    assert groups["context"] == [[0, 1], [2, 3], [4, 5], [6, 7]]  # consecutive ranks: one sequence
    assert groups["expert"] == [[0, 2], [1, 3], [4, 6], [5, 7]]  # same data and context index
    assert groups["expert_replica"] == [[0, 1, 4, 5], [2, 3, 6, 7]]  # same experts
    for axis, size in (("context", 2), ("expert", 2), ("expert_replica", 4)):
        flat = sorted(r for g in groups[axis] for r in g)
        assert flat == list(range(8)) and all(len(g) == size for g in groups[axis])  # a partition


@pytest.mark.parametrize(
    "world, cp, ep, groups, batch_world",
    [
        (1, 1, 1, {"context": [], "expert": [], "expert_replica": []}, 1),
        (2, 2, 1, {"context": [[0, 1]], "expert": [], "expert_replica": []}, 1),
        (4, 2, 1, {"context": [[0, 1], [2, 3]], "expert": [], "expert_replica": []}, 2),
        (2, 1, 2, {"context": [], "expert": [[0, 1]], "expert_replica": []}, 2),  # one copy of each slice
        (4, 1, 2, {"context": [], "expert": [[0, 1], [2, 3]], "expert_replica": [[0, 2], [1, 3]]}, 4),
    ],
)
def test_groups_by_degree(world, cp, ep, groups, batch_world):
    dims = ParallelDims.from_config(ParallelConfig(context_parallel=cp, expert_parallel=ep), world)
    assert dims.group_ranks() == groups and dims.batch_world == batch_world
    assert [dims.coords(r)["context"] for r in range(world)] == [r % cp for r in range(world)]


def test_a_single_process_mesh_needs_no_process_group():
    mesh = ParallelDims(1).build(0)
    assert (mesh.context_group, mesh.expert_group, mesh.expert_replica_group) == (None, None, None)
    assert (mesh.batch_rank, mesh.batch_world, mesh.context_rank, mesh.expert_rank) == (0, 1, 0, 0)
    assert mesh.describe() == []


@pytest.mark.parametrize(
    "world, parallel, message",
    [
        (1, {"context_parallel": 2}, "parallel.context_parallel=2 must divide the number of processes (1); "
                                     "launch with torchrun --nproc-per-node a multiple of 2"),
        (2, {"expert_parallel": 4}, "parallel.expert_parallel=4 must divide the number of processes (2)"),
        (6, {"context_parallel": 2, "expert_parallel": 2},
         "parallel.context_parallel=2 x parallel.expert_parallel=2 (4) must divide the number of processes (6)"),
        (2, {"context_parallel": 0}, "parallel.context_parallel must be >= 1, got 0"),
        (2, {"expert_parallel": -1}, "parallel.expert_parallel must be >= 1, got -1"),
        (2, {"context_parallel": 2, "mode": "none"}, "parallel.context_parallel needs parallel.mode ddp, fsdp or auto"),
        (2, {"expert_parallel": 2, "mode": "none"}, "parallel.expert_parallel needs parallel.mode ddp or auto"),
        (2, {"expert_parallel": 2, "mode": "fsdp"}, "parallel.expert_parallel needs parallel.mode ddp or auto: FSDP"),
        (2, {"expert_parallel": 2, "mode": "zero"}, "parallel.mode must be auto|none|ddp|fsdp, got 'zero'"),
    ],
)
def test_layouts_that_do_not_fit_are_one_line(world, parallel, message):
    with pytest.raises(RunConfigError) as err:
        ParallelDims.from_config(ParallelConfig(**parallel), world)
    assert message in str(err.value) and "\n" not in str(err.value)


def test_model_code_imports_nothing_of_parallelism():
    """Models and their blocks (models/, nn/) never import the training engine, where all
    parallelism lives: it reaches them from outside (Attention.sdpa_override, MoE layers
    swapped by enable_expert_parallel)."""
    bad = []
    for path in sorted([*(SRC / "models").rglob("*.py"), *(SRC / "nn").rglob("*.py")]):
        for node in ast.walk(ast.parse(path.read_text())):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else (
                [node.module or ""] if isinstance(node, ast.ImportFrom) and not node.level else [])  # fmt: skip
            bad += [f"{path.name}: {n}" for n in names if n == "genet5.train" or n.startswith("genet5.train.")]
    assert bad == []
