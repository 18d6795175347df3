"""A first CPU run of the seq2seq GeneT5 (issue 14): train the compressor and pointer decoder on
windows of the `train` single-exon genomes of splits.tsv, the encoder taken from the bundled
per-base model (trained too by default; --freeze-encoder keeps it fixed), then decode a `validation` genome with the constrained
decoder and score it with the project's scorer (genet5.evaluate.compare).

    .venv/bin/python scripts/train_seq2seq.py ../shared/genomes runs/seq2seq_a --steps 2000
    .venv/bin/python scripts/train_seq2seq.py ../shared/genomes runs/seq2seq_a --eval-only \
        --eval phages/erwinia_phage_MT939486

Writes OUT/train.csv (step, bases, losses, lr, seconds), OUT/val.csv (loss on fixed windows of
the validation single-exon genomes), OUT/model/ (safetensors + config.json), and for each
--eval genome OUT/eval_<strands>_<name>.gff3 and OUT/eval.json (F1 by level, bp/s).
Results of the first runs: docs/training_logs/seq2seq_20261204.md.
"""

from __future__ import annotations

import argparse
import copy
import csv
import json
import math
import random
import sys
import time
from pathlib import Path

import torch

from genet5.data.splits import read_manifest, read_splits
from genet5.models.configs import get_preset
from genet5.models.genet5 import GeneT5
from genet5.models.weights import load_model, save_pretrained
from genet5.train.genet5_task import collate_windows, full_loss
from genet5.train.seq2seq_data import SINGLE_EXON_TAXA, entry_windows, train_entries


# validation genomes with a part that overlaps a training chromosome (splits.tsv notes): left
# out of the validation-loss sample rather than cut here
VAL_OVERLAPS_TRAIN = ("invertebrates/Drosophila_melanogaster_dm6_1pct", "plants/Arabidopsis_thaliana_TAIR10_1pct")


def _windows(entries, args, subset, seed, subset_for=None):
    out = []
    for e in entries:
        t = time.time()
        frac = float((subset_for or {}).get(e.path, subset))
        got = list(entry_windows(e, window=args.window, overlap=args.overlap, subset=frac, seed=seed,
                                 target_strands=args.target_strands))
        out.extend(w.item() for w in got)
        print(f"  {e.path}: {len(got)} windows ({time.time() - t:.0f} s)", flush=True)
    return out


def build_model(args) -> GeneT5:
    # a continued checkpoint keeps its own sizes (the learning curve's runs are not the preset's)
    cfg = copy.deepcopy(load_model(args.init_from).config) if args.init_from else get_preset(args.preset)
    for kv in args.set:  # config overrides (model sizes of the learning curve), e.g. dec_layers=1
        key, value = kv.split("=", 1)
        setattr(cfg, key, type(getattr(cfg, key))(value))
    if args.pointer_rel_buckets is not None:
        cfg.pointer_rel_buckets = args.pointer_rel_buckets
    cfg.target_strands = args.target_strands
    cfg.aux_loss_weight = 0.0 if args.freeze_encoder else cfg.aux_loss_weight
    model = GeneT5(cfg)
    if args.init_from:  # continue a seq2seq checkpoint; parameters it lacks (a new pointer term) keep their init
        init = load_model(args.init_from)
        if init.config.target_strands != args.target_strands:
            raise SystemExit(f"{args.init_from} was trained with target_strands {init.config.target_strands!r}")
        got = model.load_state_dict(init.state_dict(), strict=False)
        assert not got.unexpected_keys, got.unexpected_keys
        print(f"from {args.init_from}; new: {', '.join(got.missing_keys) or 'none'}")
    elif args.encoder:
        per_base = load_model(args.encoder)
        missing = model.load_state_dict(per_base.state_dict(), strict=False)
        assert not missing.unexpected_keys, missing.unexpected_keys
    if args.freeze_encoder:
        for p in list(model.encoder.parameters()) + list(model.aux_head.parameters()):
            p.requires_grad_(False)
    return model


def train(args) -> None:
    root = Path(args.genomes)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(args.seed)
    model = build_model(args)
    trained = [p for p in model.parameters() if p.requires_grad]
    print(f"parameters: total {sum(p.numel() for p in model.parameters()):,}, trained {sum(p.numel() for p in trained):,}")
    taxa = tuple(args.taxa.split(","))
    entries = train_entries(root / "manifest.tsv", root / "splits.tsv", taxa)
    print(f"train genomes ({len(entries)}): {', '.join(e.path for e in entries)}")
    train_items = _windows(entries, args, args.subset, args.seed, dict(kv.split("=", 1) for kv in args.subset_for))
    split = read_splits(root / "splits.tsv")
    val_entries = [e for e in read_manifest(root / "manifest.tsv")
                   if split.get(e.path) == "validation" and e.taxon in taxa and e.path not in VAL_OVERLAPS_TRAIN]  # fmt: skip
    val_items = _windows(val_entries, args, 0.02, 1)
    random.Random(1).shuffle(val_items)
    val_batches = [collate_windows(val_items[i : i + args.batch]) for i in range(0, min(len(val_items), 64), args.batch)]
    print(f"windows: train {len(train_items)}, validation sample {sum(b['input_ids'].shape[0] for b in val_batches)}")
    opt = torch.optim.AdamW(trained, lr=args.lr, weight_decay=0.01, betas=(0.9, 0.95))
    rng = random.Random(args.seed)
    order: list[int] = []
    t0 = time.time()
    bases = 0
    with open(out / "train.csv", "w", newline="") as ft, open(out / "val.csv", "w", newline="") as fv:
        wt, wv = csv.writer(ft), csv.writer(fv)
        wt.writerow(["step", "bases", "loss", "token_loss", "pointer_loss", "aux_loss", "lr", "seconds"])
        wv.writerow(["step", "bases", "loss", "token_loss", "pointer_loss", "aux_loss", "seconds"])
        for step in range(1, args.steps + 1):
            warm = min(1.0, step / max(1, args.warmup))
            lr = args.lr * warm * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * step / args.steps)))
            for g in opt.param_groups:
                g["lr"] = lr
            if len(order) < args.batch:
                idx = list(range(len(train_items)))
                rng.shuffle(idx)
                order.extend(idx)
            batch = collate_windows([train_items[order.pop()] for _ in range(args.batch)])
            model.train()
            loss, parts = full_loss(model, batch)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(trained, 1.0)
            opt.step()
            bases += batch["n_bases"]
            if step % args.log_every == 0 or step == 1:
                wt.writerow([step, bases, f"{float(loss.detach()):.4f}", f"{parts['token_loss']:.4f}",
                             f"{parts['pointer_loss']:.4f}", f"{parts['aux_loss']:.4f}", f"{lr:.2e}",
                             f"{time.time() - t0:.0f}"])  # fmt: skip
                ft.flush()
            if step % args.val_every == 0 or step == args.steps:
                model.eval()
                sums = [0.0] * 4
                with torch.no_grad():
                    for b in val_batches:
                        l, p = full_loss(model, b)
                        for k, v in enumerate((float(l), p["token_loss"], p["pointer_loss"], p["aux_loss"])):
                            sums[k] += v / len(val_batches)
                wv.writerow([step, bases, *(f"{v:.4f}" for v in sums), f"{time.time() - t0:.0f}"])
                fv.flush()
                print(f"step {step} bases {bases:,} train {float(loss.detach()):.3f} val {sums[0]:.3f} "
                      f"(token {sums[1]:.3f} pointer {sums[2]:.3f}) {time.time() - t0:.0f} s", flush=True)  # fmt: skip
            if step in args.save_at:  # snapshots for the learning curve (decoded afterwards)
                save_pretrained(model, out / f"model_step{step}")
            if args.max_minutes and time.time() - t0 > args.max_minutes * 60:
                print(f"stopped at step {step}: --max-minutes {args.max_minutes}")
                break
    save_pretrained(model, out / "model")
    (out / "run.json").write_text(json.dumps({"argv": sys.argv, "args": vars(args), "steps_done": step,
                                              "bases": bases, "seconds": round(time.time() - t0)}, indent=1))  # fmt: skip


def evaluate(args) -> None:
    from genet5.evaluate.compare import compare_files
    from genet5.genome.fasta import read_fasta
    from genet5.genome.gff3_writer import write_gff3
    from genet5.genome.models import Annotation
    from genet5.predict.genes import predicted_gene
    from genet5.predict.seq2seq import decode_sequence, default_strands

    root, out = Path(args.genomes), Path(args.out)
    model = load_model(out / args.model_dir)
    if args.strands is None:
        args.strands = default_strands(model)
    split = read_splits(root / "splits.tsv")
    entries = {e.path: e for e in read_manifest(root / "manifest.tsv")}
    report = json.loads((out / "eval.json").read_text()) if (out / "eval.json").is_file() else {}
    for path in args.eval:
        e = entries[path]
        assert split.get(path) == "validation", f"{path} is not a validation genome"
        ann = Annotation(source="seq2seq")
        lengths = {}
        t = time.time()
        n_bases = 0
        for rec in read_fasta(e.genome):
            genes = decode_sequence(model, rec.seq, code=e.genetic_code or 11, window=args.window,
                                    stride=args.window // 2, strands=args.strands,
                                    first_pointer_margin=args.first_pointer_margin)  # fmt: skip
            for i, g in enumerate(genes, 1):
                ann.add_gene(predicted_gene(g, rec.id, i, "seq2seq"))
            lengths[rec.id] = len(rec.seq)
            n_bases += len(rec.seq)
        secs = time.time() - t
        tag = args.strands + ("" if args.first_pointer_margin is None else f"_margin{args.first_pointer_margin:g}")
        tag = (args.model_dir + "_" if args.model_dir != "model" else "") + tag
        gff = out / f"eval_{tag}_{Path(path).name}.gff3"
        write_gff3(gff, ann, lengths)
        res = compare_files(e.annotation, gff, e.genome, default_code=e.genetic_code or 11).result
        row = {"genes_predicted": sum(len(v) for v in ann.genes.values()), "seconds": round(secs, 1),
               "bp_per_s": round(n_bases / secs), "total": {k: v for k, v in res.as_dict().items() if k != "per_sequence"}}  # fmt: skip
        report[f"{path} strands={args.strands}" + ("" if args.model_dir == "model" else f" {args.model_dir}") + ("" if args.first_pointer_margin is None else f" first_pointer_margin={args.first_pointer_margin:g}")] = row
        print(path, json.dumps(row)[:2000], flush=True)
    (out / "eval.json").write_text(json.dumps(report, indent=1))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("genomes", help="the shared genome collection (manifest.tsv, splits.tsv)")
    ap.add_argument("out")
    ap.add_argument("--preset", default="genet5-cpu")
    ap.add_argument("--encoder", default="genet5-cpu", help="per-base model whose encoder starts the run ('' = random)")
    ap.add_argument("--init-from", default="", help="seq2seq checkpoint to continue (instead of --encoder)")
    ap.add_argument("--freeze-encoder", action=argparse.BooleanOptionalAction, default=False)
    ap.add_argument("--taxa", default=",".join(SINGLE_EXON_TAXA),
                    help="manifest taxa to train on (comma-separated; default the single-exon ones), "
                         "e.g. fungi,invertebrates,plants,vertebrates for the eukaryote model")
    ap.add_argument("--window", type=int, default=2048)
    ap.add_argument("--overlap", type=int, default=256)
    ap.add_argument("--subset", type=float, default=0.5)
    ap.add_argument("--subset-for", nargs="*", default=[], metavar="PATH=FRACTION",
                    help="another --subset for one genome (e.g. fewer of human chrX's mostly gene-free windows)")
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--steps", type=int, default=2000)
    ap.add_argument("--warmup", type=int, default=100)
    ap.add_argument("--lr", type=float, default=2e-3)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--log-every", type=int, default=10)
    ap.add_argument("--val-every", type=int, default=100)
    ap.add_argument("--max-minutes", type=float, default=0)
    ap.add_argument("--eval", nargs="*", default=[], help="validation genomes (manifest paths) to decode and score")
    ap.add_argument("--eval-only", action="store_true")
    ap.add_argument("--model-dir", default="model", help="the run's model directory to decode with (e.g. model_step400)")
    ap.add_argument("--pointer-rel-buckets", type=int, default=None,
                    help="GeneT5Config.pointer_rel_buckets (0: no position term; default the preset's, or --init-from's)")
    ap.add_argument("--set", nargs="*", default=[], metavar="KEY=VALUE", help="config overrides, e.g. dec_layers=1")
    ap.add_argument("--save-at", type=int, nargs="*", default=[], help="steps at which to save OUT/model_stepN")
    ap.add_argument("--target-strands", default="both", choices=("both", "plus"),
                    help="GeneT5Config.target_strands: 'plus' trains on plus-strand genes only (decoded plus_rc)")
    ap.add_argument("--strands", default=None, choices=("both", "plus_rc"),
                    help="decode_sequence's strands (default: plus_rc for a model trained on plus genes, else both)")
    ap.add_argument("--first-pointer-margin", type=float, default=None, help="decode_greedy's first_pointer_margin (nats)")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    if not args.eval_only:
        train(args)
    if args.eval:
        evaluate(args)


if __name__ == "__main__":
    main()
