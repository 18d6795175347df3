"""Context parallelism over 2 gloo processes equals one process: logits, loss and every
parameter gradient of Genos to 1e-5, plain and packed batches, dense and MoE models, sliding
window, the query-blocked mask path, and composed with FSDP2 (+ activation checkpointing) on the
same two ranks.

Each worker computes the one-process reference itself (same seed, same full batch), then the
CP run on its zigzag shard, and rank 0 writes the largest differences for the parent to check.
"""

from __future__ import annotations

import datetime
import json
import os
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.multiprocessing as mp
import torch.nn.functional as F

from genet5.models.configs import get_preset
from genet5.models.genos import Genos
from genet5.nn import Attention, CrossAttention, KVCache
from genet5.train.context_parallel import (
    ContextParallelAttention,
    cp_lm_loss_fn,
    cp_positions,
    cp_shard_batch,
    enable_context_parallel,
    shard_sequence,
    unshard_sequence,
)
from conftest import free_port
from genet5.train.genos_task import IGNORE, collate_lm

WORLD, B, T = 2, 2, 128
TOL = 1e-5


def _batch(packed: bool) -> dict:
    """A collate_lm batch: random bases with a few Ns; packed -> documents whose boundaries fall
    inside and across the 2W = 4 zigzag chunks (labels shifted before sharding)."""
    rng = np.random.default_rng(0)
    samples = []
    for b in range(B):
        ids = rng.integers(5, 9, T)  # C, G, T, A
        ids[rng.integers(0, T, 5)] = 9  # N: ignored as a target
        doc = np.zeros(T, np.int64)
        if packed:
            for cut in ((20, 45, 90) if b == 0 else (64,)):
                doc[cut:] += 1
        samples.append({"input_ids": ids, "doc_ids": doc})
    return collate_lm(samples)


# name: (config changes, packed batch, compare gradients, query-blocked masks / K-V gradients
# by reduce-scatter instead of all-reduce)
# MoE: the load-balancing and z-losses are computed over each rank's local tokens (not sums over
# tokens), so their router gradients differ from one process's by design; with both coefficients
# 0 the gradients must match exactly. With the default coefficients only the forward is compared.
CASES = {
    "dense": (dict(n_experts=0), False, True, False),
    "dense_packed": (dict(n_experts=0), True, True, False),
    "dense_packed_blocked": (dict(n_experts=0), True, True, "blocked"),
    "dense_reduce_scatter": (dict(n_experts=0), False, True, "reduce_scatter"),
    "moe_window": (dict(aux_loss_coef=0.0, z_loss_coef=0.0, window=40), False, True, False),
    "moe_default_forward": (dict(), True, False, False),
}


def _model(changes: dict) -> Genos:
    torch.manual_seed(0)
    # RoPE base 1e4 instead of 5e7: wrong positions then change the logits visibly at T = 128
    return Genos(replace(get_preset("genos-tiny"), rope_base=1e4, **changes))


def _reference(model: Genos, batch: dict):
    model.zero_grad()
    doc = batch["doc_ids"] if batch["packed"] else None
    logits = model(batch["input_ids"], doc_ids_BT=doc)
    loss = F.cross_entropy(logits.flatten(0, 1), batch["labels"].flatten(), ignore_index=IGNORE)
    loss.backward()
    grads = {n: p.grad.clone() for n, p in model.named_parameters()}
    return logits.detach(), loss.detach(), grads


def _maxdiff(a: torch.Tensor, b: torch.Tensor) -> float:
    return float((a - b).abs().max())


def _cp_case(rank: int, changes: dict, packed: bool, variant: str | bool) -> dict:
    import torch.distributed as dist

    from genet5.nn import attention as A
    from genet5.train import context_parallel as CP
    from genet5.train.context_parallel import context_parallel, gather_sequence

    batch = _batch(packed)
    model = _model(changes)
    ref_logits, ref_loss, ref_grads = _reference(model, batch)
    model.zero_grad()
    saved = A.MASK_BLOCK_ELEMENTS, CP._reduce_scatter_by_all_reduce
    if variant == "blocked":  # the CP query chunks' masks exceed this: blocks of 8 query rows
        A.MASK_BLOCK_ELEMENTS = 8 * T
    if variant == "reduce_scatter":  # the path NCCL takes (gloo has it in this torch)
        CP._reduce_scatter_by_all_reduce = lambda group: False
    try:
        with context_parallel(model):
            local = cp_shard_batch(batch, rank, WORLD)
            doc = local["doc_ids"] if local["packed"] else None
            logits = model(local["input_ids"], positions=local["positions"], doc_ids_BT=doc)
            total = F.cross_entropy(
                logits.flatten(0, 1), local["labels"].flatten(), ignore_index=IGNORE, reduction="sum"
            )
            loss = total / local["n_targets_global"]  # the ranks' losses sum to the global mean
            loss.backward()
    finally:
        A.MASK_BLOCK_ELEMENTS, CP._reduce_scatter_by_all_reduce = saved
    full_logits = gather_sequence(logits.detach())
    loss_sum = loss.detach().clone()
    dist.all_reduce(loss_sum)
    out = {"logits": _maxdiff(full_logits, ref_logits), "loss": abs(float(loss_sum - ref_loss))}
    g = 0.0
    for n, p in model.named_parameters():
        dist.all_reduce(p.grad)  # each rank holds the gradient of its own tokens' losses
        g = max(g, _maxdiff(p.grad, ref_grads[n]))
    out["grads"] = g
    out["grad_scale"] = max(float(v.abs().max()) for v in ref_grads.values())
    return out


def _fsdp_case(rank: int) -> dict:
    """FSDP2 (with activation checkpointing) shards the parameters over the same two ranks that
    split the sequence. FSDP averages gradients over ranks, so the local mean loss is weighted
    by local targets / global targets * world (what the Trainer does with batch_weight = local
    n_targets)."""
    from genet5.train.context_parallel import context_parallel, gather_sequence
    from genet5.train.distributed import DistInfo, parallelize

    changes = dict(aux_loss_coef=0.0, z_loss_coef=0.0)
    batch = _batch(packed=True)
    _, ref_loss, ref_grads = _reference(_model(changes), batch)
    model = parallelize(
        _model(changes), "fsdp", info=DistInfo(rank, WORLD, rank), mixed_precision="fp32",
        activation_checkpointing=True,  # the blocks (and their K/V all-gathers) rerun in backward
    )
    local = cp_shard_batch(batch, rank, WORLD)
    with context_parallel(model):
        loss, metrics = cp_lm_loss_fn(model, local)
        (loss * local["n_targets"] / local["n_targets_global"] * WORLD).backward()
    weighted = gather_sequence(torch.tensor([[float(loss) * local["n_targets"]]]).repeat(1, 2))
    out = {"loss": abs(float(weighted[0, ::2].sum()) / local["n_targets_global"] - float(ref_loss))}
    g = 0.0
    for n, p in model.named_parameters():
        n = n.replace("_checkpoint_wrapped_module.", "")
        g = max(g, _maxdiff(p.grad.full_tensor(), ref_grads[n]))
    out["grads"] = g
    out["context_metric"] = metrics["context"]
    return out


def _worker(rank: int, port: int, out: str) -> None:
    import torch.distributed as dist

    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port))
    torch.set_num_threads(1)
    dist.init_process_group("gloo", rank=rank, world_size=WORLD, timeout=datetime.timedelta(seconds=120))
    try:
        results = {name: _cp_case(rank, *c[:2], c[3]) for name, c in CASES.items()}
        results["fsdp2"] = _fsdp_case(rank)
    finally:
        dist.destroy_process_group()
    if rank == 0:
        Path(out, "cp.json").write_text(json.dumps(results))


def test_context_parallel_matches_single_process(tmp_path):
    # fork: the children reuse the imported torch (spawn re-imports it: ~20 s on 2 busy cores)
    mp.start_processes(
        _worker, args=(free_port(), str(tmp_path)), nprocs=WORLD, join=True, start_method="fork"
    )
    res = json.loads((tmp_path / "cp.json").read_text())
    for name, r in res.items():
        print(name, {k: f"{v:.2e}" for k, v in r.items()})
        assert r["loss"] <= TOL, name
        if name == "fsdp2":
            assert r["context_metric"] == T
        else:
            assert r["logits"] <= TOL, name
        if name == "fsdp2" or CASES[name][2]:
            assert r["grads"] <= TOL, name


# -- single-process pieces ---------------------------------------------------------------------
@pytest.mark.parametrize("world", [1, 2, 3, 4])
def test_zigzag_shards_cover_the_sequence_with_equal_causal_work(world):
    Tn = 8 * world
    x = torch.arange(2 * Tn).view(2, Tn)
    parts = [shard_sequence(x, r, world) for r in range(world)]
    assert torch.equal(unshard_sequence(parts), x)
    pos = [cp_positions(Tn, r, world) for r in range(world)]
    for r in range(world):
        assert torch.equal(parts[r][0], pos[r])  # positions are the global indices of the shard
    assert sorted(torch.cat(pos).tolist()) == list(range(Tn))
    work = {int((p + 1).sum()) for p in pos}  # keys each rank's queries see under a causal mask
    assert len(work) == 1


def test_cp_shard_batch_targets_and_errors():
    batch = _batch(packed=True)
    parts = [cp_shard_batch(batch, r, WORLD) for r in range(WORLD)]
    assert sum(p["n_targets"] for p in parts) == batch["n_targets"] == parts[0]["n_targets_global"]
    # packed: RoPE positions restart per document on the full sequence, then get sharded
    full_pos = unshard_sequence([p["positions"] for p in parts])
    assert full_pos[0, 20].item() == 0 and full_pos[0, 19].item() == 19 and full_pos[0, 100].item() == 10
    assert torch.equal(unshard_sequence([p["labels"] for p in parts]), batch["labels"])
    bad = dict(batch, input_ids=batch["input_ids"][:, :126], labels=batch["labels"][:, :126])
    with pytest.raises(ValueError, match="divisible by 4"):
        cp_shard_batch(bad, 0, WORLD)


def test_override_needs_positions_and_excludes_kv_cache():
    model = _model(dict(n_experts=0))
    enable_context_parallel(model)
    assert all(m.sdpa_override is not None for m in model.modules() if isinstance(m, Attention))
    ids = torch.randint(5, 9, (1, 8))
    with pytest.raises(ValueError, match="positions"):
        model(ids)  # no process group needed: the check comes first
    attn = model.layers[0].attn
    with pytest.raises(ValueError, match="kv_cache"):
        attn(torch.randn(1, 4, 64), positions=torch.arange(4), kv_cache=KVCache())
    with pytest.raises(ValueError, match="self-attention only"):
        enable_context_parallel(torch.nn.ModuleList([CrossAttention(8, 8, 2)]))
    assert isinstance(attn.sdpa_override, ContextParallelAttention)
