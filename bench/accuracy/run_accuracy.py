#!/usr/bin/env python3
"""GeneT5 against its peer gene finder on whole held-out genomes, all scored by `genet5 eval`.

Each *case* (table ``CASES`` below) names a genome directory under the shared genome store, an
optional subset of sequences, the genetic code, the decoder(s) of ``genet5 predict`` to run and
the peer tool with its parameters (Prodigal for prokaryotes and phages, AUGUSTUS with the
closest species parameters for eukaryotes). For a case this script

1. prepares ``bench/results/work/accuracy_<case>/genome.fa`` (only the case's sequences) and
   ``reference.gff3`` (the reference filtered to the same sequences) with the functions of
   ``bench/baselines/run_baselines.py``, so both tools see exactly the same input;
2. runs ``genet5 predict genome.fa -o ours_<decoder>.gff3 --model DIR --genetic-code N
   --decoder D --threads 2 -q`` with wall-clock timing (``time.perf_counter`` around the
   subprocess; includes start-up and model loading) and child CPU time, checks the output with
   ``gt gff3validator`` (pass/fail recorded) and scores it with ``genet5 eval REF PRED --genome
   genome.fa --json``;
3. gets the peer result: with ``--reuse-baselines`` (default) from
   ``bench/results/baselines_<peer case>.json`` when that file covers exactly the same genome,
   sequences and tool parameters -- its kept prediction is re-scored here by the current
   ``genet5 eval`` when ``bench/results/work/<peer case>/`` still holds it, otherwise the stored
   scores are used; else the peer is run now (``run_baselines.run_case`` into
   ``work/accuracy_<case>/peer/``; ``baselines_*.json`` are never written by this script);
4. writes ``bench/results/accuracy_<case>.json`` and the combined ``bench/results/accuracy.json``.

Usage::

    python bench/accuracy/run_accuracy.py --list
    python bench/accuracy/run_accuracy.py --cases erwinia_MT939486,malvi --model runs/x/model
    python bench/accuracy/run_accuracy.py --all
    python bench/accuracy/run_accuracy.py --table            # Markdown table of stored results
"""

from __future__ import annotations

import argparse
import datetime as _dt
import hashlib
import json
import os
import resource
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "bench" / "baselines"))
import run_baselines as rb  # noqa: E402

RESULTS = rb.RESULTS
WORK = rb.WORK
GENOMES = rb.GENOMES
BUNDLED_MODEL = REPO / "src" / "genet5" / "bundled" / "genet5-cpu"
PROKARYOTIC_TAXA = {"prokaryote", "phage"}


@dataclass
class AccCase:
    name: str
    taxon: str  # prokaryote | phage | fungus | invertebrate | plant
    genome_dir: str  # relative to GENOMES
    code: int  # genetic code passed to `genet5 predict --genetic-code` (and Prodigal -g)
    decoders: list[str]  # our decoders to run; a decoder `genet5 predict` does not offer is skipped
    peer_tool: str  # "prodigal" | "augustus"
    peer_param: str  # Prodigal: genetic code; AUGUSTUS: --species
    sequences: list[str] | None = None  # None = all records
    peer_extra_args: list[str] = field(default_factory=list)
    baseline: str | None = None  # bench/results/baselines_<baseline>.json to reuse, if it matches
    note: str = ""

    def peer_case(self) -> rb.Case:
        return rb.Case(f"accuracy_{self.name}_peer", self.genome_dir, self.peer_tool, self.peer_param,
                       sequences=self.sequences, note=self.note, extra_args=list(self.peer_extra_args))


CASES: dict[str, AccCase] = {
    c.name: c
    for c in [
        AccCase("vibrio", "prokaryote", "prokaryotes/Vibrio_cholerae_RFB16", 11, ["orf"],
                "prodigal", "11", baseline="vibrio_prodigal", note="2 chromosomes + plasmid"),
        AccCase("malvi", "prokaryote", "prokaryotes/Mycoplasmoides_alvi_ATCC29626", 4, ["orf"],
                "prodigal", "4", baseline="malvi_prodigal", note="7 draft scaffolds, code 4"),
        AccCase("erwinia_LT960552", "phage", "phages/erwinia_phage_LT960552", 11, ["orf"],
                "prodigal", "11", baseline="phage_LT960552_prodigal", note="353 kb jumbo phage"),
        AccCase("erwinia_MT939486", "phage", "phages/erwinia_phage_MT939486", 11, ["orf"],
                "prodigal", "11", note="358 kb jumbo phage"),
        AccCase("yeast3", "fungus", "fungi/Saccharomyces_cerevisiae_S288C", 1, ["orf", "viterbi"],
                "augustus", "saccharomyces_cerevisiae_S288C", sequences=rb.YEAST3,
                baseline="yeast3_augustus",
                note="chromosomes I, III, VI; AUGUSTUS parameters trained on S288C (optimistic peer)"),
        AccCase("dmel_chr4", "invertebrate", "invertebrates/Drosophila_melanogaster_dm6_chr4", 1,
                ["viterbi"], "augustus", "fly", baseline="dmel_chr4_augustus",
                note="dot chromosome; AUGUSTUS defaults (UTR on)"),
        AccCase("athal_1pct", "plant", "plants/Arabidopsis_thaliana_TAIR10_1pct", 1, ["viterbi"],
                "augustus", "arabidopsis", baseline="athal_1pct_augustus",
                note="first 1% of each chromosome"),
        AccCase("celegans_1pct", "invertebrate", "invertebrates/Caenorhabditis_elegans_WS270_1pct", 1,
                ["viterbi"], "augustus", "caenorhabditis", baseline="celegans_1pct_augustus",
                note="first 1% of each chromosome; WormBase reference with non-coding genes"),
    ]
}


# --------------------------------------------------------------------------- helpers

def _now() -> str:
    return _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _rel(p: Path | str) -> str:
    return rb._rel(Path(p))


def _strip_repo(s: str) -> str:
    return s.replace(str(REPO) + "/", "")


def sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def model_info(model_dir: Path) -> dict:
    st = model_dir / "model.safetensors"
    return {"dir": _rel(model_dir), "model_safetensors_sha256": sha256(st) if st.exists() else None,
            "model_safetensors_mtime": _dt.datetime.fromtimestamp(st.stat().st_mtime, _dt.timezone.utc)
            .strftime("%Y-%m-%dT%H:%M:%SZ") if st.exists() else None}


_PREDICT_HELP: str | None = None


def predict_help() -> str:
    global _PREDICT_HELP
    if _PREDICT_HELP is None:
        p = subprocess.run([rb.genet5_bin(), "predict", "--help"], capture_output=True, text=True,
                           env=dict(os.environ, COLUMNS="200"))
        _PREDICT_HELP = p.stdout + p.stderr
    return _PREDICT_HELP


def decoder_available(decoder: str) -> bool:
    # `--decoder` is a free string option; a decoder is offered when its name appears in the help
    return decoder == "orf" or decoder in predict_help()


def gff3validate(path: Path) -> dict:
    exe = shutil.which("gt")
    if exe is None:
        return {"ok": None, "message": "gt (genometools) not installed"}
    p = subprocess.run([exe, "gff3validator", str(path)], capture_output=True, text=True)
    lines = (p.stdout + p.stderr).strip().splitlines()
    errors = [ln for ln in lines if ln.startswith("gt gff3validator: error")]
    return {"ok": p.returncode == 0, "rc": p.returncode,
            "warnings": sum(ln.startswith("warning:") for ln in lines),
            "message": _strip_repo(errors[0] if errors else (lines[0] if lines else ""))}


def count_genes(gff: Path) -> int:
    n = 0
    with open(gff) as f:
        for line in f:
            if not line.startswith("#"):
                parts = line.split("\t", 3)
                if len(parts) > 2 and parts[2] == "gene":
                    n += 1
    return n


# --------------------------------------------------------------------------- our model

def run_ours(case: AccCase, decoder: str, wd: Path, genome: Path, ref: Path, bp: int,
             model_dir: Path, threads: int, force: bool = False) -> dict:
    if not force and not decoder_available(decoder):
        return {"decoder": decoder, "skipped": f"`genet5 predict` offers no decoder {decoder!r} yet"}
    pred = wd / f"ours_{decoder}.gff3"
    argv = [rb.genet5_bin(), "predict", str(genome), "-o", str(pred), "--model", str(model_dir),
            "--genetic-code", str(case.code), "--decoder", decoder, "--threads", str(threads), "-q"]
    if pred.exists():
        pred.unlink()
    load0 = os.getloadavg()[0]
    ru0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    p = subprocess.run(argv, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    ru1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (ru1.ru_utime - ru0.ru_utime) + (ru1.ru_stime - ru0.ru_stime)
    (wd / f"ours_{decoder}.log").write_text(p.stdout + p.stderr)
    rec = {
        "tool": "genet5",
        "decoder": decoder,
        "command": _strip_repo(" ".join(argv)),
        "threads": threads,
        "seconds": round(wall, 3),
        "cpu_seconds": round(cpu, 3),
        "bp_per_s": round(bp / wall, 1),
        "bp_per_cpu_s": round(bp / cpu, 1) if cpu else None,
        "load_average_1min": [round(load0, 2), round(os.getloadavg()[0], 2)],  # before, after
        "prediction_file": _rel(pred),
    }
    if p.returncode != 0 or not pred.exists():
        tail = (p.stderr.strip().splitlines() or p.stdout.strip().splitlines() or ["?"])[-1]
        rec["error"] = f"rc={p.returncode}: {_strip_repo(tail)}"
        return rec
    rec["predicted_genes"] = count_genes(pred)
    rec["gff3validator"] = gff3validate(pred)
    scores, how = rb.score(ref, pred, genome, wd / f"scores_ours_{decoder}.json")
    rec["scores"] = scores
    rec["score_command" if scores is not None else "score_error"] = _strip_repo(how)
    return rec


# --------------------------------------------------------------------------- peer

def _baseline_matches(case: AccCase, b: dict, lengths: dict[str, int]) -> str | None:
    """None if baseline record ``b`` covers exactly the case's input and tool parameters, else why not."""
    pc = case.peer_case()
    want_param = " ".join([("genetic code " if pc.tool == "prodigal" else "species ") + pc.param,
                           *pc.extra_args])
    if b.get("tool") != pc.tool:
        return f"tool {b.get('tool')} != {pc.tool}"
    if b.get("genome") != case.genome_dir:
        return f"genome {b.get('genome')} != {case.genome_dir}"
    if b.get("param") != want_param:
        return f"param {b.get('param')!r} != {want_param!r}"
    if sorted(b.get("sequences") or []) != sorted(lengths) or b.get("bp") != sum(lengths.values()):
        return "different sequences"
    if not b.get("scores"):
        return "baseline has no scores"
    return None


def peer_result(case: AccCase, wd: Path, genome: Path, ref: Path, lengths: dict[str, int],
                reuse: bool, jobs: int) -> dict:
    keys = ("tool", "tool_version", "param", "bp", "seconds", "cpu_seconds", "bp_per_s", "bp_per_cpu_s",
            "processes", "parallel", "commands", "predicted_units", "prediction_file", "date", "device")
    why = "no baseline case" if case.baseline is None else None
    if reuse and case.baseline is not None:
        bpath = RESULTS / f"baselines_{case.baseline}.json"
        if not bpath.exists():
            why = f"{_rel(bpath)} missing"
        else:
            b = json.loads(bpath.read_text())
            why = _baseline_matches(case, b, lengths)
            if why is None:
                rec = {k: b.get(k) for k in keys}
                rec["source"] = f"reused {_rel(bpath)}"
                # re-score its kept prediction with the current evaluator against our (identical) input
                bwd = WORK / case.baseline
                kept = REPO / b["prediction_file"] if b.get("prediction_file") else None
                run_json = bwd / "run.json"
                same_run = (kept is not None and kept.exists() and run_json.exists()
                            and json.loads(run_json.read_text()).get("date") == b.get("date"))
                if same_run:
                    scores, how = rb.score(ref, kept, genome, wd / "scores_peer.json")
                    if scores is not None:
                        rec["scores"], rec["score_command"] = scores, _strip_repo(how)
                        rec["scores_source"] = "kept prediction re-scored now by the current genet5 eval"
                        rec["gff3validator"] = gff3validate(kept)
                        return rec
                rec["scores"], rec["score_command"] = b["scores"], b.get("score_command")
                rec["scores_source"] = f"stored in {_rel(bpath)} (scored {b.get('scored_at')})"
                return rec
    # run the peer now in our own work dir (baselines_*.json untouched)
    r = rb.run_case(case.peer_case(), jobs=jobs, work_dir=wd / "peer", write_result=False)
    rec = {k: r.get(k) for k in keys}
    rec["source"] = "run now" + (f" ({why})" if reuse and why else "")
    rec["scores"] = r.get("scores")
    rec["score_command"] = r.get("score_command") or r.get("score_error")
    rec["scores_source"] = "scored now"
    rec["gff3validator"] = gff3validate(REPO / r["prediction_file"])
    return rec


# --------------------------------------------------------------------------- driver

def run_case(case: AccCase, model_dir: Path, threads: int, jobs: int, reuse: bool,
             decoders: list[str] | None = None) -> dict:
    gdir = GENOMES / case.genome_dir
    wd = WORK / f"accuracy_{case.name}"
    wd.mkdir(parents=True, exist_ok=True)
    genome = wd / "genome.fa"
    lengths = rb.prepare_genome(gdir / "genome.fa.gz", genome, case.sequences)
    bp = sum(lengths.values())
    ref = rb.prepare_reference(gdir, wd / "reference", set(lengths))
    minfo = model_info(model_dir)
    todo = list(decoders or case.decoders)
    if not decoders and not any(decoder_available(d) for d in todo):
        todo.append("orf")  # e.g. viterbi not offered yet: measure orf instead of nothing
    # decoders named on the command line are run even if `predict --help` does not mention them
    ours = [run_ours(case, d, wd, genome, ref, bp, model_dir, threads, force=bool(decoders)) for d in todo]
    minfo_after = model_info(model_dir)
    if minfo_after["model_safetensors_sha256"] != minfo["model_safetensors_sha256"]:
        minfo["warning"] = "model.safetensors changed while this case ran (training still writing it?)"
    # keep earlier results of other decoders for the same model and input (e.g. `--decoders viterbi` later)
    out = RESULTS / f"accuracy_{case.name}.json"
    if out.exists():
        old = json.loads(out.read_text())
        if (old.get("model", {}).get("model_safetensors_sha256") == minfo["model_safetensors_sha256"]
                and old.get("sequence_lengths") == lengths):
            ran = {o["decoder"] for o in ours}
            ours += [dict(o, kept_from=old.get("date")) for o in old.get("ours", [])
                     if o["decoder"] not in ran and o.get("scores")]
    peer = peer_result(case, wd, genome, ref, lengths, reuse, jobs)
    dev = rb.device()
    rec = {
        "case": case.name,
        "taxon": case.taxon,
        "genome": case.genome_dir,
        "sequences": list(lengths),
        "sequence_lengths": lengths,
        "bp": bp,
        "genetic_code": case.code,
        "note": case.note,
        "reference_file": _rel(ref),
        "genome_file": _rel(genome),
        "model": minfo,
        "ours": ours,
        "peer": peer,
        "same_device_as_peer": (peer.get("device") or {}).get("cpu") == dev["cpu"]
        and (peer.get("device") or {}).get("cores") == dev["cores"],
        "date": _now(),
        "device": dev,
    }
    out.write_text(json.dumps(rec, indent=2) + "\n")
    return rec


def write_combined() -> Path:
    out = RESULTS / "accuracy.json"
    cases = {}
    for n in CASES:
        p = RESULTS / f"accuracy_{n}.json"
        if p.exists():
            cases[n] = json.loads(p.read_text())
    out.write_text(json.dumps({"generated": _now(), "cases": cases}, indent=2) + "\n")
    return out


def _f1(scores: dict | None, key: str) -> str:
    s = (scores or {}).get(key)
    return f"{s['f1']:.3f}" if isinstance(s, dict) and s.get("f1") is not None else "-"


def table(names: list[str]) -> str:
    lines = ["| case | taxon | tool | nucleotide F1 | exon F1 | gene F1 | stop F1 | start+stop F1 | bp/s |",
             "|---|---|---|---|---|---|---|---|---|"]
    models: dict[str, str] = {}
    for n in names:
        p = RESULTS / f"accuracy_{n}.json"
        if not p.exists():
            continue
        r = json.loads(p.read_text())
        prok = r["taxon"] in PROKARYOTIC_TAXA
        m = r["model"]
        tag = (m.get("model_safetensors_sha256") or "?")[:8]
        models[tag] = m["dir"]
        rows = [(f"GeneT5 {o['decoder']} [{tag}]", o) for o in r["ours"]]
        peer = r["peer"]
        rows.append((f"{peer['tool']} {peer.get('tool_version') or ''} ({peer['param']})", peer))
        for tool, o in rows:
            if o.get("skipped") or o.get("error"):
                lines.append(f"| {r['case']} | {r['taxon']} | {tool} | "
                             f"{o.get('skipped') or o.get('error')} | | | | | |")
                continue
            sc = o.get("scores")
            ss = _f1(sc, "start_stop") if prok else "-"
            lines.append(f"| {r['case']} | {r['taxon']} | {tool} | {_f1(sc, 'nucleotide')} | {_f1(sc, 'exon')} "
                         f"| {_f1(sc, 'gene')} | {_f1(sc, 'stop')} | {ss} | {o['bp_per_s']:,.0f} |")
    foot = [f"[{k}] = {v}/model.safetensors (sha256 prefix)" for k, v in models.items()]
    return "\n".join(lines + ([""] + foot if foot else []))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--list", action="store_true", help="list cases and exit")
    ap.add_argument("--cases", default="", help="comma-separated case names (see --list)")
    ap.add_argument("--all", action="store_true", help="run every case")
    ap.add_argument("--table", action="store_true",
                    help="print a Markdown table of stored results (of --cases, default all) and exit")
    ap.add_argument("--model", type=Path, default=BUNDLED_MODEL,
                    help=f"model directory (default: {_rel(BUNDLED_MODEL)})")
    ap.add_argument("--decoders", default="",
                    help="comma-separated decoders to run instead of each case's own list (run even "
                         "when `genet5 predict --help` does not name them)")
    ap.add_argument("--threads", type=int, default=2, help="`genet5 predict --threads` (default 2)")
    ap.add_argument("--jobs", type=int, default=2,
                    help="max peer-tool processes at once when a peer is run (AUGUSTUS: one per sequence)")
    ap.add_argument("--reuse-baselines", action=argparse.BooleanOptionalAction, default=True,
                    help="reuse bench/results/baselines_<case>.json for the peer when it covers the same "
                         "sequences and parameters (default on)")
    a = ap.parse_args(argv)
    if a.list:
        for c in CASES.values():
            seqs = ",".join(c.sequences) if c.sequences else "all"
            print(f"{c.name:18s} {c.taxon:12s} code {c.code:<2d} ours {','.join(c.decoders):12s} "
                  f"{c.peer_tool} {c.peer_param} {' '.join(c.peer_extra_args)}  {c.genome_dir} [{seqs}]"
                  f"  reuse: {c.baseline or '-'}")
        return 0
    names = [n for n in a.cases.split(",") if n]
    if a.all or (a.table and not names):
        names = list(CASES)
    bad = [n for n in names if n not in CASES]
    if bad:
        ap.error(f"unknown case(s): {bad}; see --list")
    if a.table:
        print(table(names))
        return 0
    if not names:
        ap.error("name cases with --cases a,b or use --all")
    model_dir = a.model.resolve()
    if not (model_dir / "model.safetensors").exists():
        ap.error(f"no model.safetensors in {model_dir}; pass --model DIR")
    if rb.genet5_bin() is None:
        ap.error("genet5 executable not found")
    WORK.mkdir(parents=True, exist_ok=True)
    gi = WORK / ".gitignore"
    if not gi.exists():
        gi.write_text("*\n!.gitignore\n")
    decoders = [d for d in a.decoders.split(",") if d] or None
    for n in names:
        t0 = time.perf_counter()
        r = run_case(CASES[n], model_dir, a.threads, a.jobs, a.reuse_baselines, decoders)
        for o in r["ours"]:
            if o.get("skipped") or o.get("error"):
                print(f"{n}: genet5 {o['decoder']}: {o.get('skipped') or o.get('error')}", flush=True)
            else:
                print(f"{n}: genet5 {o['decoder']}: {r['bp']:,} bp in {o['seconds']:.1f} s "
                      f"({o['bp_per_s']:,.0f} bp/s), gene F1 {_f1(o.get('scores'), 'gene')}, "
                      f"gff3validator {'ok' if o['gff3validator']['ok'] else 'FAILED'}", flush=True)
        p = r["peer"]
        print(f"{n}: {p['tool']} ({p['source']}): gene F1 {_f1(p.get('scores'), 'gene')}, "
              f"{p['bp_per_s']:,.0f} bp/s [{time.perf_counter() - t0:.1f} s total]", flush=True)
        write_combined()
    print()
    print(table(names))
    return 0


if __name__ == "__main__":
    sys.exit(main())
