"""`genet5 train`: the per_base objective trains and saves the per-base model (encoder + head, no
decoder), which predict loads; a full GeneT5 given as --init keeps its decoder."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch

from conftest import invoke, run_cli

EXAMPLE = Path(__file__).resolve().parents[2] / "src" / "genet5" / "examples" / "phage_NC_016566"
STEPS = ["--set", "train.max_steps=2", "--set", "train.eval_every=0", "--set", "train.checkpoint_every=0",
         "--set", "data.token_budget=1024", "--threads", "1"]


@pytest.fixture(scope="module")
def bake_dir(tmp_path_factory) -> Path:
    tmp = tmp_path_factory.mktemp("train")
    raw = tmp / "raw" / "phages" / "phage_NC_016566"
    raw.mkdir(parents=True)
    for name in ("genome.fa.gz", "annotation.gff3.gz"):
        (raw / name).symlink_to(EXAMPLE / name)
    r = run_cli("bake", tmp / "raw", tmp / "bake", "--window", "512", "--overlap", "64", "-q")
    assert r.returncode == 0, r.stderr
    return tmp / "bake"


def test_per_base_training_saves_the_per_base_model(bake_dir, tmp_path):
    from genet5.models.genet5 import GeneT5, GeneT5PerBase
    from genet5.models.weights import from_pretrained, save_pretrained

    r = run_cli("train", bake_dir, "--out", tmp_path / "run", "--preset", "genet5-tiny", *STEPS)
    assert r.returncode == 0, r.stderr
    model_dir = tmp_path / "run" / "model"
    assert json.loads((model_dir / "config.json").read_text())["model_type"] == "genet5_per_base"
    assert type(from_pretrained(model_dir)) is GeneT5PerBase
    # the next stage starts from it (scripts/train_bundled_model.sh), and predict runs it
    r = run_cli("train", bake_dir, "--out", tmp_path / "run2", "--init", model_dir, *STEPS)
    assert r.returncode == 0, r.stderr
    out = tmp_path / "p.gff3"
    r = run_cli("predict", EXAMPLE / "genome.fa.gz", "-o", out, "--model", tmp_path / "run2" / "model", "-q", "--threads", "1")
    assert r.returncode == 0, r.stderr
    assert out.read_text().startswith("##gff-version 3")
    # a full encoder-decoder objective needs a full model to start from
    r = run_cli("train", bake_dir, "--out", tmp_path / "run3", "--init", model_dir, "--objective", "full", *STEPS)
    assert r.returncode == 2 and "not a GeneT5 encoder-decoder model" in r.stderr

    # a full GeneT5 trained per_base keeps its (untouched) decoder in the saved model
    torch.manual_seed(0)
    from genet5.models.configs import get_preset

    full = GeneT5(get_preset("genet5-tiny"))
    save_pretrained(full, tmp_path / "full")
    r = run_cli("train", bake_dir, "--out", tmp_path / "run4", "--init", tmp_path / "full", "--objective", "per_base", *STEPS)
    assert r.returncode == 0, r.stderr
    trained = from_pretrained(tmp_path / "run4" / "model")
    assert type(trained) is GeneT5
    assert torch.equal(trained.token_head.weight, full.token_head.weight)
    assert not torch.equal(trained.aux_head.weight, full.aux_head.weight)


@pytest.mark.parametrize(
    "args, message",
    [
        (["--preset", "genos-tiny"], "--preset genos-tiny: not a GeneT5 preset (model_type 'genos')"),
        # the config's model section is read (flags given win over it)
        (["--set", "model.preset=genos-tiny"], "--preset genos-tiny: not a GeneT5 preset (model_type 'genos')"),
        # ... and a flag given wins over it: the preset passes, the missing bake is what fails
        (["--preset", "genet5-tiny", "--set", "model.preset=genos-tiny"], "no-bake: no such directory (give the output directory of `genet5 bake`)"),
        (["--set", "model.objective=fast"], "--objective must be one of per_base, full, not 'fast'"),
        (["--set", "model.context_schedule=1K:1"], "config.model: unknown key(s) ['context_schedule']"),
        (["--set", "parallel.context_parallel=2"], "parallel.context_parallel is for Genos (genet5 lm pretrain)"),
        (["--set", "parallel.expert_parallel=2"], "parallel.expert_parallel is for Genos (genet5 lm pretrain)"),
        # model.config changes fields of a fresh preset's GeneT5Config, typed, known fields only
        (["--set", "model.config.pointer_bukets=32"], "model.config: unknown key(s) ['pointer_bukets'] of a GeneT5Config"),
        (["--set", "model.config.dec_layers=two"], "model.config.dec_layers: expected an integer, got 'two'"),
        (["--init", "runs/x/model", "--set", "model.config.pointer_rel_buckets=32"],
         "model.config changes a fresh --preset; a saved model (--init) keeps its own config"),
        # a traceback before (torch.set_num_threads, AdamW), or silently ignored (--preset with --init)
        (["--threads", "-2"], "--threads must be >= 1, got -2"),
        (["--set", "optim.lr=-1e-3"], "optim.lr must be > 0, got -0.001"),
        (["--init", "runs/x/model", "--preset", "genet5-tiny"], "--init and --preset exclude each other"),
    ],
)
def test_bad_model_or_parallel_settings_fail_in_one_line(tmp_path, args, message):
    """One line each; the bake directory does not exist, so all but the case whose settings
    pass are refused before any data is read."""
    res = invoke("train", tmp_path / "no-bake", "--out", tmp_path / "run", *args)
    assert res.exit_code == 2 and message in res.stderr, res.output
    assert len(res.stderr.strip().splitlines()) == 1


def test_a_damaged_checkpoint_on_resume_is_one_line(bake_dir, tmp_path):
    out = tmp_path / "run"
    r = run_cli("train", bake_dir, "--out", out, "--preset", "genet5-tiny", *STEPS[2:], "--set", "train.max_steps=1")
    assert r.returncode == 0, r.stderr
    damaged = out / "step-00000001" / "trainer.pt"
    damaged.write_bytes(damaged.read_bytes()[:50])
    r = run_cli("train", bake_dir, "--out", out, "--preset", "genet5-tiny", *STEPS)
    assert r.returncode == 2 and "Traceback" not in r.stderr, r.stderr
    (line,) = r.stderr.strip().splitlines()
    assert line.startswith(f"genet5: error: {damaged}: damaged or incomplete checkpoint file (")
    assert line.endswith(f"; remove {damaged.parent} to resume from an earlier checkpoint, or --set train.resume=never to start over")


def test_model_config_sets_fields_of_the_preset(bake_dir, tmp_path):
    """--set model.config.KEY=VALUE reaches the trained model's config (configs/genet5-1.55b-seq2seq.yaml
    turns the pointer's position term on this way)."""
    r = run_cli("train", bake_dir, "--out", tmp_path / "run", "--preset", "genet5-tiny", "--objective", "full",
                "--set", "model.config.pointer_rel_buckets=8", *STEPS)  # fmt: skip
    assert r.returncode == 0, r.stderr
    assert json.loads((tmp_path / "run" / "model" / "config.json").read_text())["pointer_rel_buckets"] == 8


def test_collate_keeps_only_plus_genes_for_a_plus_target_model():
    """GeneT5Config.target_strands "plus" through `genet5 train`: its batches' targets hold the
    window's plus genes only, teacher-forcing inputs shifted from them."""
    from genet5.tokenizers.annotation import GeneStructure, Tok, encode_genes
    from genet5.train.genet5_task import collate_windows

    types, ptrs = encode_genes([GeneStructure("+", [(10, 99)]), GeneStructure("-", [(120, 209)]),
                                GeneStructure("+", [(230, 299)], cut_right=True)], 300)  # fmt: skip
    item = {"input_ids": np.ones(300, np.uint8), "base_labels": np.zeros(300, np.uint8),
            "target_types": types, "target_pointers": ptrs}  # fmt: skip
    both, plus = collate_windows([item]), collate_windows([item], target_strands="plus")
    got = [t for t in plus["target_types"][0].tolist() if t != Tok.PAD]
    assert Tok.GENE_MINUS in both["target_types"][0].tolist() and Tok.GENE_MINUS not in got
    assert got == [Tok.GENE_PLUS, Tok.CDS_START, Tok.CDS_END, Tok.GENE_PLUS, Tok.CDS_START, Tok.CUT_RIGHT, Tok.EOS]
    assert plus["dec_types"][0, 0] == Tok.BOS and plus["dec_types"][0, 1:len(got)].tolist() == got[:-1]


def test_fsdp_full_objective_trains_and_saves_the_whole_model(bake_dir, tmp_path):
    """torchrun, 2 gloo processes, parallel.mode=fsdp, the encoder-decoder: the decoder blocks'
    memory projections run outside their forward (so they are not sharded block by block), and
    the final model is gathered from the shards: it equals the last checkpoint's weights."""
    import os
    import subprocess
    import sys

    from safetensors.torch import load_file

    out = tmp_path / "run"
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node", "2", "-m", "genet5",
           "train", str(bake_dir), "--out", str(out), "--preset", "genet5-tiny", "--objective", "full",
           "--set", "parallel.mode=fsdp", "--set", "train.checkpoint_every=2", *STEPS]  # fmt: skip
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=300, env={**os.environ, "OMP_NUM_THREADS": "1"})
    assert proc.returncode == 0, proc.stderr[-3000:]
    final, last = load_file(out / "model" / "model.safetensors"), load_file(out / "step-00000002" / "model.safetensors")
    assert set(final) == set(last) and all(torch.equal(final[k], last[k]) for k in final)


def test_the_1_55b_recipe_config_builds_its_model():
    """configs/genet5-1.55b-seq2seq.yaml loads as genet5 train's run config and gives the 1.55B
    encoder-decoder with the pointer's position term (built on the meta device: no memory)."""
    from genet5.train import GeneT5RunConfig, load_run_config
    from genet5.train.genet5_task import genet5_model

    path = Path(__file__).resolve().parents[2] / "configs" / "genet5-1.55b-seq2seq.yaml"
    cfg = load_run_config(path, ["train.out_dir=unused"], cls=GeneT5RunConfig)
    assert (cfg.model.objective, cfg.parallel.mode) == ("full", "fsdp")
    with torch.device("meta"):
        model = genet5_model(cfg.model)
    assert model.config.pointer_rel_buckets == 32 and model.config.target_strands == "plus"
    assert sum(p.numel() for p in model.parameters()) == 1_535_370_272


def _one_error_line(res) -> str:
    """The single stderr line of a refused `invoke` (exit 2, no traceback)."""
    assert res.exit_code == 2 and "Traceback" not in res.output, res.output
    (line,) = res.stderr.strip().splitlines()
    assert line.startswith("genet5: error: ")
    return line[len("genet5: error: "):]


def test_the_run_directory_comes_from_out_then_set_then_the_config_file(bake_dir, tmp_path, monkeypatch):
    """A config file's train.out_dir was ignored (runs/genet5), and --set train.out_dir split a run:
    checkpoints there, the final model in runs/genet5/model. Now --out > --set > file > default,
    and the final model goes beside the checkpoints, which the last line names."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "run.yaml").write_text("train: {out_dir: from_file}\nmodel: {preset: genet5-tiny}\n")
    steps = [*STEPS, "--set", "train.max_steps=1"]
    for extra, where in [([], "from_file"), (["--set", "train.out_dir=from_set"], "from_set"),
                         (["--set", "train.out_dir=from_set2", "--out", "from_out"], "from_out")]:  # fmt: skip
        res = invoke("train", bake_dir, "--config", "run.yaml", *steps, *extra)
        assert res.exit_code == 0, res.output
        assert res.stdout.strip().splitlines()[-1] == f"trained 1 steps; final model in {where}/model"
        for name in ("model/config.json", "step-00000001/meta.json", "train.csv", "config.json"):
            assert (tmp_path / where / name).is_file(), name
    assert sorted(p.name for p in tmp_path.iterdir() if p.is_dir()) == ["from_file", "from_out", "from_set"]
    res = invoke("train", bake_dir, "--preset", "genet5-tiny", *steps)  # no file, no flag: the default
    assert res.exit_code == 0 and (tmp_path / "runs" / "genet5" / "model" / "config.json").is_file(), res.output


@pytest.fixture(scope="module")
def run_dir(bake_dir, tmp_path_factory) -> Path:
    """A finished 2-step run of genet5-tiny with checkpoints at steps 1 and 2."""
    out = tmp_path_factory.mktemp("run") / "run"
    r = run_cli("train", bake_dir, "--out", out, "--preset", "genet5-tiny", *STEPS, "--set", "train.checkpoint_every=1")
    assert r.returncode == 0, r.stderr
    return out


def test_resumes_that_cannot_continue_the_run_are_one_line(bake_dir, run_dir, tmp_path):
    """A changed seed (a 48-line traceback), a bad data.length_key (KeyError), parallel.mode ddp /
    fsdp without torchrun (RuntimeError), max_steps below the steps trained ("step 2 of 1"),
    another bake (silently resumed): one line each, exit 2."""
    run = tmp_path / "run"
    shutil.copytree(run_dir, run)
    ckpt = run / "step-00000002"
    other_bake = tmp_path / "other_bake"
    shutil.copytree(bake_dir, other_bake)
    index = json.loads((other_bake / "index.json").read_text())
    (other_bake / "index.json").write_text(json.dumps(index, indent=2))  # another digest, the same windows
    base = ["--out", run, "--preset", "genet5-tiny", *STEPS, "--set", "train.max_steps=4"]
    cases = [
        (bake_dir, ["--set", "train.seed=7"], f"train.seed changed since {ckpt} (0 -> 7): the resumed run would not see "
                                              "the same data order; resume with train.seed=0, or --set train.resume=never"),
        (bake_dir, ["--set", "train.max_steps=1"], f"train.max_steps=1 is below the 2 steps {ckpt} has trained: give "
                                                   "train.max_steps >= 2 to continue it"),
        (bake_dir, ["--set", "data.length_key=foo"], "data.length_key must be one of input_ids, base_labels, "
                                                     "target_types, target_pointers, got 'foo'"),
        (bake_dir, ["--set", "parallel.mode=fsdp"], "parallel.mode=fsdp needs several processes: launch with torchrun"),
        (bake_dir, ["--set", "parallel.mode=ddp"], "parallel.mode=ddp needs several processes: launch with torchrun"),
        (bake_dir, ["--set", "optim.min_lr=1"], "optim.min_lr must be <= optim.lr (0.0003), got 1.0"),
        (other_bake, [], f"{ckpt} was trained on another bake ({bake_dir}, index.json sha256 "),
    ]  # fmt: skip
    for data, extra, message in cases:
        line = _one_error_line(invoke("train", data, *base, *extra))
        assert line.startswith(message), line
    assert not (run / "step-00000003").exists()
    # the same bake elsewhere resumes; a new batching too, with one warning line
    moved = tmp_path / "moved_bake"
    shutil.copytree(bake_dir, moved)
    res = invoke("train", moved, *base, "--set", "data.token_budget=512")
    assert res.exit_code == 0, res.output
    assert (f"genet5: warning: data.token_budget 1024 -> 512 since {ckpt}: training continues from step 2, but the "
            "data order differs from there on") in res.stderr.splitlines()  # fmt: skip
    assert json.loads((run / "config.json").read_text())["data"]["bake"] == str(moved)


def test_a_training_run_given_as_a_model_names_its_model(bake_dir, run_dir, tmp_path):
    """`info RUN`, `predict --model RUN/step-N`, `train --init RUN/step-N` said "config.json:
    unknown model_type None"."""
    from genet5.models.weights import WeightLoadError, load_model

    r = run_cli("info", run_dir)
    assert r.returncode == 2 and r.stderr.strip() == f"genet5: error: {run_dir}: a training run, not a model; its model is {run_dir}/model"
    with pytest.raises(WeightLoadError) as err:
        load_model(run_dir / "step-00000001")
    assert str(err.value) == f"{run_dir}/step-00000001: a checkpoint of the training run {run_dir}, not a model; its model is {run_dir}/model"
    line = _one_error_line(invoke("train", bake_dir, "--out", tmp_path / "r", "--init", run_dir / "step-00000002", *STEPS))
    assert line == f"--init {run_dir}/step-00000002: a checkpoint of the training run {run_dir}, not a model; its model is {run_dir}/model"
    unfinished = tmp_path / "unfinished"
    shutil.copytree(run_dir, unfinished, ignore=shutil.ignore_patterns("model"))
    with pytest.raises(WeightLoadError, match=f"a training run, not a model; it has no final model yet \\(training writes it to {unfinished}/model"):
        load_model(unfinished)


def test_init_of_an_encoder_decoder_trains_it_whole_without_objective(bake_dir, tmp_path):
    """--init of a full GeneT5 without --objective trained per_base: the decoder never trained."""
    from genet5.models.configs import get_preset
    from genet5.models.genet5 import GeneT5
    from genet5.models.weights import from_pretrained, save_pretrained

    torch.manual_seed(0)
    full = GeneT5(get_preset("genet5-tiny"))
    save_pretrained(full, tmp_path / "full")
    res = invoke("train", bake_dir, "--out", tmp_path / "run", "--init", tmp_path / "full", *STEPS)
    assert res.exit_code == 0, res.output
    assert json.loads((tmp_path / "run" / "config.json").read_text())["model"]["objective"] == "full"
    trained = from_pretrained(tmp_path / "run" / "model")
    assert not torch.equal(trained.token_head.weight, full.token_head.weight)  # the decoder's head trained
    # a run resumed goes on with the objective it recorded (one started per_base before this default)
    from genet5.train.config import GeneT5ModelConfig
    from genet5.train.genet5_task import default_objective

    m = GeneT5ModelConfig(preset=None, init=str(tmp_path / "full"))
    assert default_objective(m) == "full" and default_objective(GeneT5ModelConfig()) == "per_base"
    (tmp_path / "old").mkdir()
    (tmp_path / "old" / "config.json").write_text(json.dumps({"model": {"objective": "per_base"}}))
    assert default_objective(m, tmp_path / "old") == "per_base"


@pytest.fixture(scope="module")
def bake_with_valid(tmp_path_factory) -> Path:
    """The example phage twice, under two species, one held out: a bake with a valid split."""
    tmp = tmp_path_factory.mktemp("valid")
    for name in ("Phagus_one", "Phagus_two"):
        folder = tmp / "raw" / name
        folder.mkdir(parents=True)
        for f in ("genome.fa.gz", "annotation.gff3.gz"):
            (folder / f).symlink_to(EXAMPLE / f)
    r = run_cli("bake", tmp / "raw", tmp / "bake", "--window", "512", "--overlap", "64", "--holdout", "Phagus two", "-q")
    assert r.returncode == 0, r.stderr
    return tmp / "bake"


def test_each_evaluation_prints_a_line_and_patience_without_validation_is_warned(bake_dir, bake_with_valid, tmp_path):
    res = invoke("train", bake_with_valid, "--out", tmp_path / "a", "--preset", "genet5-tiny", *STEPS[:2], *STEPS[4:],
                 "--set", "train.eval_every=1")  # fmt: skip
    assert res.exit_code == 0, res.output
    lines = [x for x in res.stderr.splitlines() if "val_loss" in x]
    assert [x.split(":")[0] for x in lines] == ["step 1", "step 2"] and lines[0].startswith("step 1: val_loss ")
    res = invoke("train", bake_dir, "--out", tmp_path / "b", "--preset", "genet5-tiny", *STEPS, "--set", "train.patience=2")
    assert res.exit_code == 0, res.output
    assert (f"genet5: warning: train.patience=2 is ignored: {bake_dir} holds no validation windows (bake with --holdout "
            "or --splits)") in res.stderr.splitlines()  # fmt: skip


def test_a_folder_that_was_never_a_bake_says_so(tmp_path):
    (tmp_path / "raw").mkdir()
    line = _one_error_line(invoke("train", tmp_path / "raw", "--out", tmp_path / "run"))
    assert line == f"{tmp_path / 'raw'}: not a bake (no index.json; give the output directory of `genet5 bake`)"
