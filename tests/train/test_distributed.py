"""2 gloo processes (DDP and FSDP2) follow the same loss curve as 1 process with the same global batch.

Rank r gets global batches r, r+2, ... so one step of 2 ranks x 1 micro-batch sees the same
batches as one process accumulating 2 micro-batches; with unit-weighted losses the gradients are
equal up to fp32 summation order.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import torch
import torch.multiprocessing as mp

from conftest import free_port

sys.path.insert(0, str(Path(__file__).parent))
import tinylm  # noqa: E402

STEPS = 6


def _worker(rank: int, world: int, port: int, out: str) -> None:
    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port), RANK=str(rank),
                      WORLD_SIZE=str(world), LOCAL_RANK=str(rank))
    torch.set_num_threads(1)
    from genet5.train import destroy_distributed, init_distributed

    info = init_distributed(device="cpu")
    results = {}
    try:
        for mode, accum in (("ddp", 1), ("fsdp", 1), ("ddp", 2), ("fsdp", 2)):
            name = f"{mode}_accum{accum}"
            cfg = tinylm.tiny_config(f"{out}/{name}", max_steps=STEPS, checkpoint_every=STEPS // 2,
                                     grad_accum=accum, eval_every=3)
            cfg.parallel.mode = mode
            r = tinylm.make_trainer(cfg, info, round_to=2).fit()
            results[name] = {"losses": r.losses, "grad_norms": r.grad_norms,
                             "val": [v["val_loss"] for v in r.val_history]}
            # resume the sharded run from its mid checkpoint and check it continues identically
            if name == "fsdp_accum1":
                cfg.train.resume = f"{out}/{name}/step-{STEPS // 2:08d}"
                r2 = tinylm.make_trainer(cfg, info, round_to=2).fit()
                results["fsdp_resumed"] = {"losses": r2.losses}
    finally:
        destroy_distributed()
    if rank == 0:
        Path(out, "results.json").write_text(json.dumps(results))


def test_ddp_and_fsdp_match_single_process(tmp_path):
    single = {}
    for accum in (2, 4):  # same global batch as 2 ranks x 1 and 2 ranks x 2 micro-batches
        cfg = tinylm.tiny_config(str(tmp_path / f"single{accum}"), max_steps=STEPS, grad_accum=accum,
                                 eval_every=3)
        # round_to=2: one process drops the same odd last batch per epoch as 2 ranks do
        single[accum] = tinylm.make_trainer(cfg, round_to=2).fit()

    # fork: the children reuse the imported torch (spawn re-imports it: ~20 s on 2 busy cores)
    mp.start_processes(_worker, args=(2, free_port(), str(tmp_path)), nprocs=2, join=True,
                       start_method="fork")
    res = json.loads((tmp_path / "results.json").read_text())
    for name, got in res.items():
        if name == "fsdp_resumed":
            continue
        ref = single[2 * int(name[-1])]
        diff = max(abs(a - b) for a, b in zip(got["losses"], ref.losses))
        print(f"{name}: max |loss - single| = {diff:.3e}")
        assert len(got["losses"]) == STEPS
        assert diff < 1e-5, (name, got["losses"], ref.losses)
        assert max(abs(a - b) for a, b in zip(got["grad_norms"], ref.grad_norms)) < 1e-5
        ref_val = [v["val_loss"] for v in ref.val_history]
        assert max(abs(a - b) for a, b in zip(got["val"], ref_val)) < 1e-5
    # the sharded run resumed from its step-3 checkpoint continues bit-exactly
    assert res["fsdp_resumed"]["losses"] == res["fsdp_accum1"]["losses"][STEPS // 2 :]
