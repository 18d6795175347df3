"""`genet5 lm pretrain`: Genos learns on a tiny LM bake (the bundled phage, a made-up held-out
species), reports held-out bits per base, resumes exactly, and runs as 2 gloo processes."""

from __future__ import annotations

import csv
import json
import math
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

import conftest
from genet5.data.lm_data import ContextSchedule, LMCorpus, LMWindowSampler
from genet5.genome.fasta import read_fasta
from genet5.train.genos_task import IGNORE, LMWindowBatches, collate_lm

EXAMPLE = Path(__file__).resolve().parents[2] / "src" / "genet5" / "examples" / "phage_NC_016566"
STEPS = 20
COMMON = [
    "--threads", "1", "--context-schedule", "128:10,256:10", "--val-windows", "4",
    "--set", f"train.max_steps={STEPS}", "--set", "train.checkpoint_every=5",
    "--set", "data.token_budget=512", "--set", "train.grad_accum=2",
    "--set", "optim.lr=3e-3", "--set", "optim.warmup_steps=2", "--set", "train.log_every=1",
    "--set", "train.tensorboard=false", "--set", "train.progress=false",
]  # fmt: skip


def invoke(*args: str):
    torch.set_num_threads(1)  # the test machine is shared with training runs
    return conftest.invoke(*args)


def losses(run: Path) -> list[float]:
    with (run / "train.csv").open() as f:
        return [float(r["loss"]) for r in csv.DictReader(f)]


def rows(path: Path) -> list[dict[str, str]]:
    with path.open() as f:
        return list(csv.DictReader(f))


@pytest.fixture(scope="module")
def bake(tmp_path_factory) -> Path:
    """The bundled phage for training; a 10%-mutated piece of it as a held-out species."""
    tmp = tmp_path_factory.mktemp("lmbake")
    seq = next(iter(read_fasta(EXAMPLE / "genome.fa.gz"))).seq
    seq = seq.decode() if isinstance(seq, bytes) else str(seq)
    rng = np.random.default_rng(1)
    piece = np.array(list(seq[5000:25000]))
    hit = rng.random(len(piece)) < 0.1
    piece[hit] = rng.choice(np.array(list("ACGT")), int(hit.sum()))
    made = tmp / "Testus_heldoutus.fa"
    made.write_text(">h1\n" + "".join(piece) + "\n")
    res = invoke("lm", "bake", EXAMPLE, made, tmp / "bake", "--holdout", "Testus heldoutus")
    assert res.exit_code == 0, res.output
    return tmp / "bake"


@pytest.fixture(scope="module")
def reference(bake, tmp_path_factory) -> Path:
    """One uninterrupted 20-step run (the curve every other run must reproduce)."""
    out = tmp_path_factory.mktemp("ref") / "run"
    res = invoke("lm", "pretrain", bake, "--out", out, "--preset", "genos-tiny", *COMMON)
    assert res.exit_code == 0, res.output
    return out


def test_pretrain_learns_and_reports_held_out_bits_per_base(reference):
    from genet5.models.genos import Genos
    from genet5.models.weights import from_pretrained

    loss = losses(reference)
    assert len(loss) == STEPS
    assert np.mean(loss[:3]) > np.mean(loss[-3:]) + 1.0, loss  # from ~ln(128) towards ~ln(4)
    train = rows(reference / "train.csv")
    assert {float(r["context"]) for r in train[:10]} == {128.0}  # the schedule's stages
    assert {float(r["context"]) for r in train[10:]} == {256.0}
    val = rows(reference / "val.csv")
    assert [int(v["step"]) for v in val] == [STEPS]
    bpb = float(val[-1]["val_bpb/Testus_heldoutus"])
    assert math.isfinite(bpb) and bpb < loss[0] / math.log(2)
    assert float(val[-1]["val_bpb"]) == pytest.approx(float(val[-1]["val_loss"]) / math.log(2))
    assert 1.9 < float(val[-1]["val_order0_bpb"]) <= 2.0
    assert isinstance(from_pretrained(reference / "model"), Genos)
    assert (reference / "config.json").is_file() and (reference / f"step-{STEPS:08d}" / "config.json").is_file()


def test_killed_and_resumed_run_follows_the_same_curve(bake, reference, tmp_path):
    """Stop at step 12, then drop that checkpoint (as if killed after step 12 with the last
    periodic checkpoint at 10): the rerun resumes at 10 and reproduces the uninterrupted curve."""
    out = tmp_path / "run"
    first = invoke("lm", "pretrain", bake, "--out", out, *COMMON, "--stop-at", "12")
    assert first.exit_code == 0, first.output
    assert (out / "step-00000010").is_dir() and (out / "step-00000012").is_dir()
    assert not (out / "model").exists()  # not finished
    assert len(losses(out)) == 12
    shutil.rmtree(out / "step-00000012")
    (out / "latest").write_text("step-00000010\n")
    second = invoke("lm", "pretrain", bake, "--out", out, *COMMON)
    assert second.exit_code == 0, second.output
    got, want = losses(out), losses(reference)
    assert len(got) == STEPS  # rows 11-12 of the "killed" run were replaced
    assert max(abs(a - b) for a, b in zip(got, want)) <= 1e-6
    assert rows(out / "val.csv") == rows(reference / "val.csv")


def torchrun_pretrain(bake, out, *args: str) -> subprocess.CompletedProcess:
    """`genet5 lm pretrain` under torchrun with 2 gloo processes (1 thread each); must succeed."""
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node", "2",
           "-m", "genet5", "lm", "pretrain", str(bake), "--out", str(out), *map(str, args)]  # fmt: skip
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=120, env={**os.environ, "OMP_NUM_THREADS": "1"})
    assert proc.returncode == 0, proc.stderr[-3000:]
    return proc


def test_two_gloo_processes_match_one_process_accumulating(bake, tmp_path):
    """torchrun, 2 processes x 1 micro-batch == 1 process x 2 accumulated micro-batches."""
    short = COMMON + ["--context-schedule", "128:3,256:3", "--set", "train.max_steps=6"]
    single = tmp_path / "single"
    res = invoke("lm", "pretrain", bake, "--out", single, *short)
    assert res.exit_code == 0, res.output
    ddp = tmp_path / "ddp"
    torchrun_pretrain(bake, ddp, *short, "--set", "train.grad_accum=1")
    a, b = losses(single), losses(ddp)
    assert len(a) == len(b) == 6
    assert max(abs(x - y) for x, y in zip(a, b)) < 1e-5, (a, b)
    va, vb = rows(single / "val.csv")[-1], rows(ddp / "val.csv")[-1]
    assert float(va["val_bpb"]) == pytest.approx(float(vb["val_bpb"]), abs=1e-5)
    assert (ddp / "model" / "model.safetensors").is_file()


def test_window_batches_resume_and_shard_over_ranks(bake):
    sampler = LMWindowSampler(LMCorpus(bake, "train"), seed=3)
    sched = ContextSchedule.parse("64:2,128:2")
    one = LMWindowBatches(sampler, sched, 256, 64, grad_accum=2)
    ranks = [LMWindowBatches(sampler, sched, 256, 64, rank=r, world_size=2) for r in range(2)]
    it = iter(one)
    for step in range(4):
        a0, a1 = next(it), next(it)
        for a, rb in zip((a0, a1), ranks):
            b = rb.micro_batch(step)
            assert torch.equal(a["input_ids"], b["input_ids"])
        assert a0["input_ids"].shape == ((4, 64) if step < 2 else (2, 128))
    assert one.state_dict() == {"micro": 8, "grad_accum": 2}
    again = LMWindowBatches(sampler, sched, 256, 64, grad_accum=2)
    again.load_state_dict({"micro": 6, "grad_accum": 2})
    assert torch.equal(next(iter(again))["input_ids"], one.micro_batch(6)["input_ids"])
    again.load_state_dict({"micro": 3, "grad_accum": 1})  # grad_accum changed: keep the step
    assert again.micro == 6


def test_labels_stop_at_documents_and_skip_non_bases():
    ids = np.array([5, 6, 7, 8, 9, 5, 6, 7])
    doc = np.array([0, 0, 0, 1, 1, 1, 1, 1], np.int32)
    b = collate_lm([{"input_ids": ids, "doc_ids": doc}])
    assert b["labels"][0].tolist() == [6, 7, IGNORE, IGNORE, 5, 6, 7, IGNORE]
    assert b["n_targets"] == 5 and b["packed"]


@pytest.mark.parametrize(
    "args, message",
    [
        (["--context-schedule", "128:x"], "--context-schedule"),
        (["--preset", "genet5-cpu"], "not a Genos preset"),
        (["--set", "model.colour=red"], "unknown key"),
        # each of these was a traceback (AdamW, the loader, torch) or was taken silently
        (["--set", "optim.lr=-1e-3"], "optim.lr must be > 0, got -0.001"),
        (["--set", "data.token_budget=0"], "data.token_budget must be >= 1, got 0"),
        (["--set", "train.grad_accum=0"], "train.grad_accum must be >= 1, got 0"),
        (["--set", "train.max_steps=0"], "train.max_steps must be >= 1, got 0"),
        (["--set", "train.max_steps=-5"], "train.max_steps must be >= 1, got -5"),
        (["--threads", "-2"], "--threads must be >= 1, got -2"),
        (["--threads", "0"], "--threads must be >= 1, got 0"),
        (["--max-n", "-1"], "--max-n must be in [0, 1], got -1.0"),
        (["--val-context", "0"], "--val-context must be >= 2, got 0"),
        (["--init", "some/model", "--preset", "genos-tiny"], "--init and --preset exclude each other"),
        (["--set", "train.resume=/nonexistent"], "train.resume=/nonexistent: no such directory"),
    ],
)
def test_bad_options_fail_in_one_line(bake, tmp_path, args, message):
    res = invoke("lm", "pretrain", bake, "--out", tmp_path / "run", "--set", "train.max_steps=1",
                 "--context-schedule", "64:1", *args)  # fmt: skip
    assert res.exit_code == 2 and message in res.output, res.output
    assert [ln for ln in res.stderr.splitlines() if "error" in ln] == [res.stderr.strip().splitlines()[-1]]
    assert "Traceback" not in res.output and not (tmp_path / "run" / "model").exists()


def test_init_model_that_cannot_be_built_is_one_line(bake, tmp_path):
    from genet5.models.configs import get_preset
    from genet5.models.genos import Genos
    from genet5.models.weights import save_pretrained

    save_pretrained(Genos(get_preset("genos-tiny")), tmp_path / "m")
    config = json.loads((tmp_path / "m" / "config.json").read_text())
    (tmp_path / "m" / "config.json").write_text(json.dumps({**config, "n_layers": 0}))  # was a ZeroDivisionError
    res = invoke("lm", "pretrain", bake, "--out", tmp_path / "run", "--init", tmp_path / "m", "--set", "train.max_steps=1")
    assert res.exit_code == 2 and "config.json: n_layers must be >= 1, got 0" in res.stderr, res.output


TINY = ["--threads", "1", "--val-windows", "2", "--set", "data.token_budget=256", "--set", "train.tensorboard=false",
        "--set", "train.progress=false", "--set", "train.log_every=0"]  # fmt: skip


def test_saved_model_records_its_training_context_and_a_resume_says_so(bake, tmp_path):
    """max_seq_len of the saved model (the default window of lm score / embed / generate) is the
    longest context it trained at, not its preset's; each evaluation prints its held-out line;
    a resumed run says from where."""
    from genet5.models.weights import load_model_config

    out = tmp_path / "run"
    args = [*TINY, "--context-schedule", "64:2,128:1", "--set", "train.max_steps=3", "--set", "train.eval_every=1"]
    first = invoke("lm", "pretrain", bake, "--out", out, *args, "--stop-at", "2")
    assert first.exit_code == 0, first.output
    held = lambda res: [ln.split(":")[0] for ln in res.stderr.splitlines() if "held-out" in ln and "bits/base (" in ln]  # noqa: E731
    assert held(first) == ["step 1", "step 2"]  # was: only in val.csv
    assert "resuming" not in first.stderr
    second = invoke("lm", "pretrain", bake, "--out", out, *args)
    assert second.exit_code == 0, second.output
    assert f"resuming from {out / 'step-00000002'} (step 2 of 3)" in second.stderr
    assert held(second) == ["step 3"]
    assert load_model_config(out / "model").max_seq_len == 128  # genos-tiny's preset says 256
    # a run stopped early by its step count records only the stages it ran
    from genet5.train.genos_task import longest_trained_context

    sched = ContextSchedule.parse("1K:2,2K:0,4K:2")
    assert [longest_trained_context(sched, n) for n in (0, 1, 2, 3, 9)] == [1024, 1024, 1024, 4096, 4096]
    # --init: the saved model's own context counts too (the bundled model says 1024)
    res = invoke("lm", "pretrain", bake, "--out", tmp_path / "ft", "--init", "genos-tiny-prok", *TINY,
                 "--context-schedule", "64:1", "--set", "train.max_steps=1")  # fmt: skip
    assert res.exit_code == 0, res.output
    assert load_model_config(tmp_path / "ft" / "model").max_seq_len == 1024


@pytest.mark.parametrize("name", ["model.safetensors", "optim.pt", "trainer.pt", "rng-rank0.pt"])
def test_damaged_checkpoint_is_one_line_naming_it(bake, tmp_path, name):
    out = tmp_path / "run"
    args = [*TINY, "--context-schedule", "64:2", "--set", "train.max_steps=2", "--val-windows", "0"]
    res = invoke("lm", "pretrain", bake, "--out", out, *args, "--stop-at", "1")
    assert res.exit_code == 0, res.output
    damaged = out / "step-00000001" / name
    damaged.write_bytes(damaged.read_bytes()[:100])  # a copy cut short
    res = invoke("lm", "pretrain", bake, "--out", out, *args)
    assert res.exit_code == 2, res.output
    line = res.stderr.strip().splitlines()[-1]
    assert line.startswith(f"genet5: error: {damaged}: damaged or incomplete checkpoint file"), res.stderr
    assert f"remove {damaged.parent}" in line and "--set train.resume=never" in line
    assert not (out / "model").exists()


def test_pretrain_refuses_a_bake_whose_shards_changed_or_hold_no_bases(bake, tmp_path):
    """A shard rewritten under an old index.json (a bake that failed into the same directory,
    before bakes were moved into place whole) is refused, not trained on."""
    args = ["--out", tmp_path / "run", *TINY, "--context-schedule", "64:1", "--set", "train.max_steps=1"]
    copy = tmp_path / "bake"
    shutil.copytree(bake, copy)
    shard = copy / "train" / "shard-00000.safetensors"
    data = bytearray(shard.read_bytes())
    data[-1] ^= 1  # same size, other content
    shard.write_bytes(bytes(data))
    res = invoke("lm", "pretrain", copy, *args)
    assert res.exit_code == 2 and f"{shard}: sha256 differs from the one index.json records" in res.stderr, res.output
    other = tmp_path / "other.fa"
    other.write_text(">o\n" + "ACGT" * 50 + "\n")
    assert invoke("lm", "bake", other, tmp_path / "b2").exit_code == 0
    shutil.copy(tmp_path / "b2" / "train" / "shard-00000.safetensors", shard)  # another bake's shard
    res = invoke("lm", "pretrain", copy, *args)
    assert res.exit_code == 2 and "200 bases in 1 documents, but index.json says" in res.stderr, res.output
    # a corpus of N only: nothing to learn (was "batches carry no loss weight" with a traceback)
    (tmp_path / "n.fa").write_text(">n\n" + "N" * 500 + "\n")
    assert invoke("lm", "bake", tmp_path / "n.fa", tmp_path / "nbake").exit_code == 0
    res = invoke("lm", "pretrain", tmp_path / "nbake", *args)
    assert res.exit_code == 2 and "the train split holds no usable bases" in res.stderr, res.output


def test_not_an_lm_bake(tmp_path):
    res = invoke("lm", "pretrain", tmp_path, "--out", tmp_path / "run")
    assert res.exit_code == 2 and "not a finished LM bake" in res.output, res.output


def test_context_parallel_two_ranks_match_one_process(bake, tmp_path):
    """torchrun, 2 processes splitting every window (parallel.context_parallel=2, one data group)
    == 1 process on the same windows: train losses and held-out bits per base to 1e-5."""
    short = COMMON + ["--context-schedule", "128:2,256:2", "--set", "train.max_steps=4", "--set", "train.grad_accum=1"]
    single = tmp_path / "single"
    res = invoke("lm", "pretrain", bake, "--out", single, *short)
    assert res.exit_code == 0, res.output
    cp = tmp_path / "cp"
    proc = torchrun_pretrain(bake, cp, *short, "--set", "parallel.context_parallel=2")
    assert "context parallel: 2 ranks per sequence, 1 data-parallel groups" in proc.stderr
    a, b = losses(single), losses(cp)
    assert len(a) == len(b) == 4
    assert max(abs(x - y) for x, y in zip(a, b)) < 1e-5, (a, b)
    ta, tb = rows(single / "train.csv"), rows(cp / "train.csv")
    assert [r["tokens"] for r in ta] == [r["tokens"] for r in tb]  # the ranks' halves add up
    assert [r["context"] for r in ta] == [r["context"] for r in tb]  # the full window length
    va, vb = rows(single / "val.csv")[-1], rows(cp / "val.csv")[-1]
    assert float(va["val_bpb"]) == pytest.approx(float(vb["val_bpb"]), abs=1e-5)
    assert va["val_targets"] == vb["val_targets"]  # every target counted once
    assert (cp / "model" / "model.safetensors").is_file()


def test_the_run_is_assembled_without_the_command_line(bake, tmp_path):
    """build_genos_run is the library's way in: a run config in, a Run the trainer fits out; the
    model section it records is resolved (the validation context from the schedule)."""
    import json

    from genet5.train import GenosRunConfig
    from genet5.train.genos_task import build_genos_run, lm_loss_fn

    cfg = GenosRunConfig()
    cfg.train.out_dir, cfg.train.max_steps = str(tmp_path / "run"), 2
    cfg.train.tensorboard = cfg.train.progress = False
    cfg.model.context_schedule, cfg.model.val_windows, cfg.data.token_budget = "128:2", 2, 256
    said = []
    run = build_genos_run(cfg, bake, log=said.append)
    assert said == [] and cfg.model.val_context == 128
    assert run.loss_fn is lm_loss_fn and (run.mesh.batch_rank, run.mesh.batch_world) == (0, 1)
    assert run.summary[0] == "Genos genos-tiny: 238,400 parameters; train 44,077 bases in 1 documents; context 128 x 2 steps"
    assert run.trainer().fit().step == 2
    assert json.loads((tmp_path / "run" / "config.json").read_text())["model"]["val_context"] == 128


def test_expert_parallel_two_ranks_match_one_process_and_resume(bake, tmp_path):
    """torchrun, 2 processes each holding half of every MoE layer's experts
    (parallel.expert_parallel=2), each on its own windows == 1 process accumulating both ranks'
    micro-batches: train losses, held-out bits per base and the saved (whole) model. The EP run
    stops at step 2 and resumes from that checkpoint (expert weights and Adam moments gathered
    into it whole, sliced again on load) and still follows the same curve."""
    from safetensors.torch import load_file

    short = COMMON + ["--context-schedule", "128:2,256:2", "--set", "train.max_steps=4"]  # grad_accum 2
    single = tmp_path / "single"
    res = invoke("lm", "pretrain", bake, "--out", single, *short)
    assert res.exit_code == 0, res.output
    ep = tmp_path / "ep"
    ep_args = [*short, "--set", "train.grad_accum=1", "--set", "parallel.expert_parallel=2",
               "--set", "train.checkpoint_every=2"]  # fmt: skip
    first = torchrun_pretrain(bake, ep, *ep_args, "--stop-at", "2")
    assert "expert parallel: each MoE layer's experts split over 2 ranks (1 copy of each slice)" in first.stderr
    assert load_file(str(ep / "step-00000002" / "model.safetensors"))["layers.0.ffn.w1"].shape[0] == 4  # whole
    torchrun_pretrain(bake, ep, *ep_args)  # resumes at step 2
    a, b = losses(single), losses(ep)
    assert len(a) == len(b) == 4
    assert max(abs(x - y) for x, y in zip(a, b)) < 1e-5, (a, b)
    ta, tb = rows(single / "train.csv"), rows(ep / "train.csv")
    assert [float(r["moe_aux_loss"]) for r in ta] == pytest.approx([float(r["moe_aux_loss"]) for r in tb], abs=1e-6)
    # the global gradient norm: experts' gradients summed over ranks, scaled as DDP scales the rest
    assert [float(r["grad_norm"]) for r in ta] == pytest.approx([float(r["grad_norm"]) for r in tb], rel=1e-5)
    va, vb = rows(single / "val.csv")[-1], rows(ep / "val.csv")[-1]
    assert float(va["val_bpb"]) == pytest.approx(float(vb["val_bpb"]), abs=1e-5)
    wa, wb = load_file(str(single / "model" / "model.safetensors")), load_file(str(ep / "model" / "model.safetensors"))
    assert wa.keys() == wb.keys()
    assert max(float((wa[k] - wb[k]).abs().max()) for k in wa) < 1e-5


@pytest.mark.parametrize(
    "args, message",
    [
        (["--set", "parallel.expert_parallel=2"], "parallel.expert_parallel=2 must divide the number of processes (1)"),
        (["--set", "parallel.expert_parallel=2", "--set", "parallel.mode=none"],
         "parallel.expert_parallel=2 must divide the number of processes (1)"),
        (["--set", "parallel.expert_parallel=0"], "parallel.expert_parallel must be >= 1, got 0"),
    ],
)
def test_expert_parallel_bad_layout_fails_in_one_line(bake, tmp_path, args, message):
    res = invoke("lm", "pretrain", bake, "--out", tmp_path / "run", "--set", "train.max_steps=1",
                 "--context-schedule", "128:1", *args)  # fmt: skip
    assert res.exit_code == 2 and message in res.output, res.output
    assert not (tmp_path / "run" / "model").exists()


@pytest.mark.parametrize(
    "args, message",
    [
        ([], "parallel.context_parallel=2 must divide the number of processes (1)"),
        (["--context-schedule", "130:1"], "multiple of 4; --context-schedule has 130"),
        (["--val-context", "126"], "--val-context to be a multiple of 4"),
    ],
)
def test_context_parallel_bad_layout_fails_in_one_line(bake, tmp_path, args, message):
    res = invoke("lm", "pretrain", bake, "--out", tmp_path / "run", "--set", "train.max_steps=1",
                 "--context-schedule", "128:1", "--set", "parallel.context_parallel=2", *args)  # fmt: skip
    assert res.exit_code == 2 and message in res.output, res.output
    assert not (tmp_path / "run" / "model").exists()


def test_validation_batches_are_equal_per_rank_and_counted_once(bake):
    """Every rank runs the same number of validation forwards (FSDP and CP need it): a rank
    short of a batch scores a weight-0 copy; CP ranks hold disjoint halves of the same targets."""
    from genet5.data.lm_data import LMCorpus as Corpus
    from genet5.train.genos_task import HeldOutBitsPerBase

    valid = Corpus(bake, "valid")
    full = HeldOutBitsPerBase(valid, 128, 6, batch_size=2)  # 3 batches
    ranks = [HeldOutBitsPerBase(valid, 128, 6, batch_size=2, rank=r, world_size=2) for r in range(2)]
    assert [len(v.batches) for v in ranks] == [2, 2]
    assert [g for g, _ in ranks[1].batches] == [0, -1]  # padding: weight 0, scored only to keep step
    real = [b["n_targets"] for v in ranks for g, b in v.batches if g >= 0]
    assert sorted(real) == sorted(b["n_targets"] for _, b in full.batches)
    halves = [HeldOutBitsPerBase(valid, 128, 6, batch_size=2, cp_rank=c, cp_world=2) for c in range(2)]
    for (_, b), (_, h0), (_, h1) in zip(full.batches, halves[0].batches, halves[1].batches):
        assert h0["input_ids"].shape[1] == 64 and h0["n_targets"] + h1["n_targets"] == b["n_targets"]


def test_default_schedule_is_capped_to_the_corpus_and_progress_reaches_a_log(tmp_path):
    """A 1M-token stage on a corpus of 3 kb documents only packs documents side by side at 1M
    tokens of memory (it ran a 24 GB machine out of memory): the default schedule stops at the
    longest document; a schedule the user wrote is kept with a warning. Without a terminal
    (a log file, CI) progress is plain lines."""
    rng = np.random.default_rng(3)
    (tmp_path / "Smallus_genomus.fa").write_text(
        "".join(f">c{i}\n{''.join(rng.choice(list('ACGT'), 3000))}\n" for i in range(3)))
    res = invoke("lm", "bake", tmp_path / "Smallus_genomus.fa", tmp_path / "bake")
    assert res.exit_code == 0, res.output
    tiny = ["--threads", "1", "--set", "train.max_steps=3", "--set", "train.log_every=1", "--set", "data.token_budget=2048",
            "--set", "train.tensorboard=false", "--set", "train.checkpoint_every=0", "--val-windows", "0"]  # fmt: skip
    res = invoke("lm", "pretrain", tmp_path / "bake", "--out", tmp_path / "run", *tiny)
    assert res.exit_code == 0, res.output
    assert "context capped at 2,048 tokens: the longest training document has 3,000 bases" in res.stderr
    assert "context 2048 x 3 steps" in res.stderr  # all four default stages merged into one
    assert [ln.split(":")[0] for ln in res.stderr.splitlines() if ln.startswith("step ")] == ["step 1/3", "step 2/3", "step 3/3"]
    res = invoke("lm", "pretrain", tmp_path / "bake", "--out", tmp_path / "run2", *tiny, "--context-schedule", "1K:2,4K:1")
    assert res.exit_code == 0, res.output
    assert "warning: context 4096 exceeds the longest training document (3,000 bases)" in res.stderr


def test_capped_schedule_merges_stages():
    s = ContextSchedule.parse("8K:0.7,32K:0.1,128K:0.1,1M:0.1", total_steps=100).capped(40_000)
    assert [st.context for st in s.stages] == [8192, 32768, 40000]
    assert s.boundaries == (70, 80, 100) and s.context_at(99) == 40000
    steps = ContextSchedule.parse("1K:5,4K:5,16K:5").capped(2048)
    assert [(st.context, st.steps) for st in steps.stages] == [(1024, 5), (2048, 10)]


def test_default_schedule_on_cpu_stops_at_32k(capsys):
    from types import SimpleNamespace

    from genet5.train.config import DEFAULT_CONTEXT_SCHEDULE
    from genet5.train.genos_task import fit_schedule_to_corpus

    corpus = SimpleNamespace(docs=np.array([[0, 0, 5_000_000]]))  # one 5 Mb chromosome
    default = ContextSchedule.parse(DEFAULT_CONTEXT_SCHEDULE, total_steps=100)
    on_cpu = fit_schedule_to_corpus(default, corpus, explicit=False, on_cpu=True)
    assert [st.context for st in on_cpu.stages] == [8192, 32768] and on_cpu.boundaries == (70, 100)
    assert "capped at 32,768 tokens: on CPU" in capsys.readouterr().err
    assert fit_schedule_to_corpus(default, corpus, explicit=False, on_cpu=False) is default  # a GPU keeps 1M
    mine = ContextSchedule.parse("128K:10", total_steps=10)
    assert fit_schedule_to_corpus(mine, corpus, explicit=True, on_cpu=True) is mine  # a written schedule stays


def test_a_step_that_will_not_fit_is_refused_before_training(bake, tmp_path, monkeypatch):
    import genet5.train.genos_task as genos_task

    # measured on CPU: 0.68 GB at 16K tokens, 1.70 GB at 64K (genos-tiny); the estimate follows
    from genet5.models.configs import get_preset

    tiny = get_preset("genos-tiny")
    assert 0.5e9 < genos_task.step_memory_bytes(tiny, 238_400, 16384) < 0.9e9
    assert 1.4e9 < genos_task.step_memory_bytes(tiny, 238_400, 65536) < 2.0e9
    monkeypatch.setattr(genos_task, "_available_memory_bytes", lambda: 4e9)  # a small laptop
    res = invoke("lm", "pretrain", bake, "--out", tmp_path / "run", "--context-schedule", "128:1,1M:1",
                 "--set", "train.max_steps=2", "--threads", "1")  # fmt: skip
    assert res.exit_code == 2
    assert "the largest training step (1,048,576 tokens per process at context 1,048,576) needs about" in res.stderr
    assert not (tmp_path / "run" / "model").exists() and not list((tmp_path / "run").glob("checkpoint*"))


def test_the_run_directory_from_set_holds_the_final_model_too(bake, tmp_path, monkeypatch):
    """--set train.out_dir without --out split a run: checkpoints there, the final model in
    runs/genos/model; now the model goes beside the checkpoints, and --out still wins."""
    monkeypatch.chdir(tmp_path)
    args = [*TINY, "--preset", "genos-tiny", "--context-schedule", "64:1", "--set", "train.max_steps=1"]
    res = invoke("lm", "pretrain", bake, *args, "--set", "train.out_dir=from_set")
    assert res.exit_code == 0, res.output
    assert (tmp_path / "from_set" / "model" / "config.json").is_file() and not (tmp_path / "runs").exists()
    assert res.stdout.strip().splitlines()[-1] == "trained 1 steps; final model in from_set/model"
    res = invoke("lm", "pretrain", bake, *args, "--set", "train.out_dir=ignored", "--out", "from_out")
    assert res.exit_code == 0 and (tmp_path / "from_out" / "model" / "config.json").is_file(), res.output
    assert not (tmp_path / "ignored").exists()
