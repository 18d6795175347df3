#!/usr/bin/env python3
"""Run peer gene finders (Prodigal, AUGUSTUS) on whole genomes and score them with `genet5 eval`.

Each *case* names a genome directory under the shared genome store, a tool, the tool's
species/genetic-code parameter and (optionally) a subset of sequences.  For a case this script

1. prepares input under ``bench/results/work/<case>/``: the decompressed genome (only the chosen
   sequences) as ``genome.fa`` and the reference annotation restricted to the same sequences as
   ``reference.gff3`` (or ``.gtf``) -- a line filter on column 1 that keeps ``##gff-version``;
2. runs the tool with wall-clock timing (``time.perf_counter`` around ``subprocess``) and CPU
   time of the child processes; at most ``--jobs`` (default 2) processes at once, one per
   sequence for AUGUSTUS, one for the whole genome for Prodigal (single-genome mode);
3. converts the output to plain GFF3 that ``genet5 eval`` reads (see ``convert_*``);
4. scores with ``genet5 eval REF PRED --genome genome.fa --json scores.json`` when that
   command exists (otherwise records ``scores: null`` and the reason);
5. writes ``bench/results/baselines_<case>.json``.

Usage::

    python bench/baselines/run_baselines.py --list
    python bench/baselines/run_baselines.py ecoli_prodigal yeast3_augustus
    python bench/baselines/run_baselines.py --all
    python bench/baselines/run_baselines.py --score-only ecoli_prodigal   # re-score kept outputs

Importable: ``from run_baselines import CASES, run_case``.
"""

from __future__ import annotations

import argparse
import concurrent.futures as cf
import datetime as _dt
import gzip
import json
import os
import platform
import re
import resource
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
RESULTS = REPO / "bench" / "results"
WORK = RESULTS / "work"
GENOMES = Path(os.environ.get("GENET5_GENOMES", REPO.parent / "shared" / "genomes"))
AUGUSTUS_CONFIG = os.environ.get("AUGUSTUS_CONFIG_PATH", "/usr/share/augustus/config")


@dataclass
class Case:
    name: str
    genome_dir: str  # relative to GENOMES
    tool: str  # "prodigal" | "augustus"
    param: str  # prodigal: genetic code; augustus: --species
    sequences: list[str] | None = None  # None = all records
    note: str = ""
    extra_args: list[str] = field(default_factory=list)


YEAST3 = ["BK006935.2", "BK006937.2", "BK006940.2"]  # chr I, III, VI: the three smallest

CASES: dict[str, Case] = {
    c.name: c
    for c in [
        Case("ecoli_prodigal", "prokaryotes/Escherichia_coli_K12_MG1655", "prodigal", "11"),
        Case("ecoli_augustus", "prokaryotes/Escherichia_coli_K12_MG1655", "augustus", "E_coli_K12",
             note="AUGUSTUS prokaryotic parameter set E_coli_K12 (trained on this genome)"),
        Case("vibrio_prodigal", "prokaryotes/Vibrio_cholerae_RFB16", "prodigal", "11",
             note="2 chromosomes + plasmid, trained jointly (single-genome mode)"),
        Case("mgal_prodigal", "prokaryotes/Mycoplasma_gallisepticum_NC_004829", "prodigal", "4"),
        Case("malvi_prodigal", "prokaryotes/Mycoplasmoides_alvi_ATCC29626", "prodigal", "4",
             note="7 draft scaffolds"),
        Case("phage_NC_016566_prodigal", "phages/enterobacteria_phage_NC_016566", "prodigal", "11",
             note="44 kb enterobacteria phage"),
        Case("phage_LT960552_prodigal", "phages/erwinia_phage_LT960552", "prodigal", "11",
             note="353 kb erwinia jumbo phage"),
        Case("chloroplast_prodigal", "plastids/Arabidopsis_thaliana_chloroplast_NC_000932", "prodigal", "11",
             note="A. thaliana plastid; trans-spliced rps12 and intron-containing genes cannot be found"),
        Case("yeast3_augustus", "fungi/Saccharomyces_cerevisiae_S288C", "augustus",
             "saccharomyces_cerevisiae_S288C", sequences=YEAST3,
             note="chromosomes I, III, VI (the three smallest); parameter set trained on S288C"),
        Case("yeast3_augustus_saccharomyces", "fungi/Saccharomyces_cerevisiae_S288C", "augustus",
             "saccharomyces", sequences=YEAST3,
             note="chromosomes I, III, VI; older generic 'saccharomyces' parameter set"),
        Case("yeast_all_augustus", "fungi/Saccharomyces_cerevisiae_S288C", "augustus",
             "saccharomyces_cerevisiae_S288C", note="all 16 nuclear chromosomes"),
        Case("dmel_chr4_augustus", "invertebrates/Drosophila_melanogaster_dm6_chr4", "augustus", "fly",
             note="dot chromosome (heterochromatic); reference has isoforms"),
        Case("dmel_chr4_augustus_noutr", "invertebrates/Drosophila_melanogaster_dm6_chr4", "augustus", "fly",
             extra_args=["--UTR=off"], note="as dmel_chr4_augustus but --UTR=off (CDS-only model, faster)"),
        Case("dmel_chr4_augustus_nosoftmask", "invertebrates/Drosophila_melanogaster_dm6_chr4", "augustus",
             "fly", extra_args=["--UTR=off", "--softmasking=0"],
             note="diagnostic: --UTR=off and lowercase (soft-masked) bases not treated as repeats"),
        Case("dmel_1pct_augustus", "invertebrates/Drosophila_melanogaster_dm6_1pct", "augustus", "fly",
             note="first 1% of each arm (7 pieces); its chr4 piece overlaps dmel_chr4"),
        Case("celegans_1pct_augustus", "invertebrates/Caenorhabditis_elegans_WS270_1pct", "augustus",
             "caenorhabditis", note="first 1% of each chromosome (6 pieces); WormBase GFF3 with non-coding genes"),
        Case("athal_1pct_augustus", "plants/Arabidopsis_thaliana_TAIR10_1pct", "augustus", "arabidopsis",
             note="first 1% of each chromosome; AUGUSTUS 'arabidopsis' was trained on TAIR genes"),
    ]
}


# --------------------------------------------------------------------------- input preparation

def _open(path: Path):
    return gzip.open(path, "rt") if path.suffix == ".gz" else open(path)


def prepare_genome(src: Path, dst: Path, keep: list[str] | None) -> dict[str, int]:
    """Write the (selected) records of ``src`` to ``dst``; return {seqid: length}."""
    lengths: dict[str, int] = {}
    want = set(keep) if keep else None
    cur = None
    with _open(src) as fin, open(dst, "w") as fout:
        for line in fin:
            if line.startswith(">"):
                sid = line[1:].split()[0]
                cur = sid if (want is None or sid in want) else None
                if cur is not None:
                    lengths[cur] = 0
                    fout.write(line)
            elif cur is not None:
                fout.write(line)
                lengths[cur] += len(line.strip())
    if want is not None and set(lengths) != want:
        raise SystemExit(f"sequences not found in {src}: {sorted(want - set(lengths))}")
    return lengths


def prepare_reference(genome_dir: Path, dst_stem: Path, seqids: set[str]) -> Path:
    """Filter the reference annotation to ``seqids`` (column 1); keep the version header."""
    src = next(p for p in (genome_dir / "annotation.gff3.gz", genome_dir / "annotation.gtf.gz") if p.exists())
    dst = dst_stem.with_suffix(".gff3" if ".gff3" in src.name else ".gtf")
    with _open(src) as fin, open(dst, "w") as fout:
        for line in fin:
            if line.startswith("#"):
                if line.startswith("##gff-version"):
                    fout.write(line)
                elif line.startswith("##sequence-region"):
                    parts = line.split()
                    if len(parts) > 1 and parts[1] in seqids:
                        fout.write(line)
                continue
            if line.split("\t", 1)[0] in seqids:
                fout.write(line)
    return dst


def split_fasta(fasta: Path, outdir: Path) -> list[Path]:
    outdir.mkdir(parents=True, exist_ok=True)
    paths, fout = [], None
    with open(fasta) as fin:
        for line in fin:
            if line.startswith(">"):
                if fout:
                    fout.close()
                sid = re.sub(r"[^A-Za-z0-9._-]", "_", line[1:].split()[0])
                p = outdir / f"{sid}.fa"
                paths.append(p)
                fout = open(p, "w")
            fout.write(line)
    if fout:
        fout.close()
    return paths


# --------------------------------------------------------------------------- tool runs

def _timed_parallel(cmds: list[tuple[list[str], Path]], jobs: int, env: dict | None = None) -> dict:
    """Run ``cmds`` (argv, stdout file) at most ``jobs`` at a time. Return timing info."""
    def one(argv_out):
        argv, out = argv_out
        t0 = time.perf_counter()
        with open(out, "w") as fo, open(str(out) + ".stderr", "w") as fe:
            rc = subprocess.run(argv, stdout=fo, stderr=fe, env=env).returncode
        return argv, rc, time.perf_counter() - t0

    ru0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    with cf.ThreadPoolExecutor(max_workers=max(1, jobs)) as ex:
        results = list(ex.map(one, cmds))
    wall = time.perf_counter() - t0
    ru1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (ru1.ru_utime - ru0.ru_utime) + (ru1.ru_stime - ru0.ru_stime)
    for argv, rc, _ in results:
        if rc != 0:
            raise RuntimeError(f"command failed (rc={rc}): {' '.join(argv)}")
    return {
        "seconds": wall,
        "cpu_seconds": cpu,
        "processes": len(cmds),
        "parallel": min(jobs, len(cmds)),
        "per_process_seconds": [round(s, 2) for _, _, s in results],
        "commands": [" ".join(a) for a, _, _ in results],
    }


def run_prodigal(case: Case, wd: Path, genome: Path, total_bp: int, jobs: int) -> dict:
    raw = wd / "prodigal.gff"
    mode = ["-p", "meta"] if total_bp < 20000 else []  # single mode refuses < 20 kb
    argv = ["prodigal", "-i", str(genome), "-o", str(raw), "-f", "gff", "-g", case.param, "-q",
            *mode, *case.extra_args]
    timing = _timed_parallel([(argv, wd / "prodigal.stdout")], 1)
    return timing


def run_augustus(case: Case, wd: Path, genome: Path, total_bp: int, jobs: int) -> dict:
    parts = split_fasta(genome, wd / "seqs")
    env = dict(os.environ, AUGUSTUS_CONFIG_PATH=AUGUSTUS_CONFIG)
    cmds = []
    for p in parts:
        argv = ["augustus", f"--species={case.param}", "--gff3=on", *case.extra_args, str(p)]
        cmds.append((argv, p.with_suffix(".augustus.gff3")))
    timing = _timed_parallel(cmds, jobs, env)
    # concatenate raw outputs in input order
    with open(wd / "augustus.gff3", "w") as fo:
        for _, out in cmds:
            fo.write(Path(out).read_text())
    timing["commands"] = [c + " > seqs/<id>.augustus.gff3" for c in timing["commands"]]
    return timing


# --------------------------------------------------------------------------- conversion

def convert_prodigal(raw: Path, out: Path) -> int:
    """Prodigal GFF is GFF3 with CDS rows only (ID=1_1 ...); keep CDS rows, drop comments."""
    n = 0
    with open(raw) as fin, open(out, "w") as fo:
        fo.write("##gff-version 3\n")
        for line in fin:
            if line.startswith("#") or not line.strip():
                continue
            f = line.rstrip("\n").split("\t")
            if len(f) == 9 and f[2] == "CDS":
                fo.write("\t".join(f) + "\n")
                n += 1
    return n


def convert_augustus(raw: Path, out: Path) -> int:
    """AUGUSTUS --gff3=on -> gene/mRNA/CDS GFF3.

    * comment lines dropped (only ``##gff-version 3`` kept);
    * IDs/Parents prefixed with the sequence id (AUGUSTUS restarts g1, g2, ... per run);
    * ``transcript`` renamed ``mRNA`` (same hierarchy, the common SO term);
    * ``stop_codon`` rows folded into the adjacent CDS where the parameter set excludes the stop
      codon from the CDS (e.g. saccharomyces_cerevisiae_S288C sets stopCodonExcludedFromCDS=true),
      so that CDS follow the reference convention (stop codon inside the CDS); no-op otherwise;
    * start_codon / stop_codon / intron / UTR rows dropped.
    Returns the number of genes.
    """
    rows = []
    with open(raw) as fin:
        for line in fin:
            if line.startswith("#") or not line.strip():
                continue
            f = line.rstrip("\n").split("\t")
            if len(f) == 9:
                # AUGUSTUS numbers genes g1, g2, ... afresh in every run (one run per sequence),
                # so make IDs unique across the concatenated file: g1 -> <seqid>.g1
                f[8] = re.sub(r"(^|;)(ID|Parent)=", rf"\g<1>\g<2>={f[0]}.", f[8])
                rows.append(f)
    attr = lambda f, k: (re.search(rf"(?:^|;){k}=([^;]+)", f[8]) or [None, None])[1]  # noqa: E731
    # per transcript: CDS rows and stop codon
    cds_by_tx: dict[str, list[list[str]]] = {}
    stop_by_tx: dict[str, list[list[str]]] = {}
    for f in rows:
        if f[2] == "CDS":
            cds_by_tx.setdefault(attr(f, "Parent"), []).append(f)
        elif f[2] == "stop_codon":
            stop_by_tx.setdefault(attr(f, "Parent"), []).append(f)
    for tx, stops in stop_by_tx.items():
        cds = cds_by_tx.get(tx, [])
        for s in stops:
            s0, s1 = int(s[3]), int(s[4])
            if any(int(c[3]) <= s0 and s1 <= int(c[4]) for c in cds):
                continue  # already inside a CDS
            # extend the CDS that abuts the stop codon (stop may be split by an intron:
            # then each piece abuts a different CDS segment or stands alone)
            for c in cds:
                if int(c[4]) + 1 == s0:
                    c[4] = str(max(int(c[4]), s1))
                    break
                if s1 + 1 == int(c[3]):
                    c[3] = str(min(int(c[3]), s0))
                    break
            else:
                new = list(s)
                new[2], new[5] = "CDS", "."
                new[8] = f"Parent={tx}"
                cds.append(new)
                rows.append(new)
    n_genes = 0
    with open(out, "w") as fo:
        fo.write("##gff-version 3\n")
        for f in rows:
            if f[2] == "gene":
                n_genes += 1
            elif f[2] == "transcript":
                f = f[:2] + ["mRNA"] + f[3:]
            elif f[2] != "CDS":
                continue
            fo.write("\t".join(f) + "\n")
    return n_genes


# --------------------------------------------------------------------------- scoring & metadata

def genet5_bin() -> str | None:
    cand = REPO / ".venv" / "bin" / "genet5"
    return str(cand) if cand.exists() else shutil.which("genet5")


def score(ref: Path, pred: Path, genome: Path, out_json: Path) -> tuple[dict | None, str]:
    exe = genet5_bin()
    if exe is None:
        return None, "genet5 executable not found"
    argv = [exe, "eval", str(ref), str(pred), "--genome", str(genome), "--json", str(out_json)]
    p = subprocess.run(argv, capture_output=True, text=True)
    if p.returncode != 0 or not out_json.exists():
        msg = (p.stderr.strip().splitlines() or p.stdout.strip().splitlines() or ["?"])[-1]
        return None, f"`{' '.join(argv)}` failed (rc={p.returncode}): {msg}"
    return json.loads(out_json.read_text()), " ".join(argv)


def tool_version(tool: str) -> str:
    try:
        if tool == "prodigal":
            p = subprocess.run(["prodigal", "-v"], capture_output=True, text=True)
            txt = p.stdout + p.stderr
            m = re.search(r"V(\d[\w.]*)", txt)
        else:
            p = subprocess.run(["augustus", "--version"], capture_output=True, text=True)
            txt = p.stdout + p.stderr
            m = re.search(r"\(([\d.]+)\)", txt)
        return m.group(1) if m else txt.strip().splitlines()[0]
    except OSError as e:
        return f"unavailable: {e}"


def device() -> dict:
    model = "unknown"
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {"cpu": model, "cores": os.cpu_count(), "machine": platform.machine(),
            "note": "CPU only; cores shared with other jobs, so timings are noisy"}


# --------------------------------------------------------------------------- driver

def _rel(p: Path) -> str:
    try:
        return str(Path(p).resolve().relative_to(REPO))
    except ValueError:
        return str(p)


def run_case(case: Case, jobs: int = 2, score_only: bool = False, keep_work: bool = True,
             work_dir: Path | None = None, write_result: bool = True) -> dict:
    """Prepare, run, convert, score one case; return its record.

    ``work_dir`` (default ``WORK/<case>``) and ``write_result=False`` (do not write
    ``bench/results/baselines_<case>.json``) let other benches (bench/accuracy) run a peer tool
    in their own directory without touching the stored baseline results.
    """
    gdir = GENOMES / case.genome_dir
    wd = Path(work_dir) if work_dir is not None else WORK / case.name
    wd.mkdir(parents=True, exist_ok=True)
    genome = wd / "genome.fa"
    meta_path = wd / "run.json"
    if score_only and meta_path.exists():
        rec = json.loads(meta_path.read_text())
        ref = REPO / rec["reference_file"]
        pred = REPO / rec["prediction_file"]
        # re-convert from the kept raw output (conversion may have changed)
        if case.tool == "prodigal":
            rec["predicted_units"] = convert_prodigal(wd / "prodigal.gff", pred)
        else:
            rec["predicted_units"] = convert_augustus(wd / "augustus.gff3", pred)
        meta_path.write_text(json.dumps(rec, indent=2))
    else:
        lengths = prepare_genome(gdir / "genome.fa.gz", genome, case.sequences)
        total = sum(lengths.values())
        ref = prepare_reference(gdir, wd / "reference", set(lengths))
        if case.tool == "prodigal":
            timing = run_prodigal(case, wd, genome, total, jobs)
            pred = wd / "prediction.gff3"
            n = convert_prodigal(wd / "prodigal.gff", pred)
        elif case.tool == "augustus":
            timing = run_augustus(case, wd, genome, total, jobs)
            pred = wd / "prediction.gff3"
            n = convert_augustus(wd / "augustus.gff3", pred)
        else:
            raise ValueError(case.tool)
        rec = {
            "case": case.name,
            "tool": case.tool,
            "tool_version": tool_version(case.tool),
            "param": " ".join([("genetic code " if case.tool == "prodigal" else "species ") + case.param,
                               *case.extra_args]),
            "genome": case.genome_dir,
            "sequences": list(lengths),
            "sequence_lengths": lengths,
            "bp": total,
            "seconds": round(timing["seconds"], 3),
            "cpu_seconds": round(timing["cpu_seconds"], 3),
            "bp_per_s": round(total / timing["seconds"], 1),
            "bp_per_cpu_s": round(total / timing["cpu_seconds"], 1) if timing["cpu_seconds"] else None,
            "processes": timing["processes"],
            "parallel": timing["parallel"],
            "per_process_seconds": timing["per_process_seconds"],
            "commands": [c.replace(str(REPO) + "/", "") for c in timing["commands"]],
            "predicted_units": n,
            "reference_file": _rel(ref),
            "prediction_file": _rel(pred),
            "note": case.note,
            "date": _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "device": device(),
        }
        meta_path.write_text(json.dumps(rec, indent=2))
    scores, how = score(ref, pred, genome, wd / "scores.json")
    rec["scores"] = scores
    rec["score_command" if scores is not None else "score_error"] = how.replace(str(REPO) + "/", "")
    rec.pop("score_error" if scores is not None else "score_command", None)
    rec["scored_at"] = _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    if write_result:
        out = RESULTS / f"baselines_{case.name}.json"
        out.write_text(json.dumps(rec, indent=2) + "\n")
    return rec


def _f1(rec: dict, key: str) -> str:
    s = (rec.get("scores") or {}).get(key)
    return f"{s['f1']:.3f}" if isinstance(s, dict) and s.get("f1") is not None else "-"


def table(names: list[str]) -> str:
    head = ("| case | tool | params | sequences | bp | nucleotide F1 | exon F1 | gene F1 | stop F1 "
            "| start+stop F1 | bp/s (wall) | seconds (wall) | bp/CPU-s |")
    lines = [head, "|" + "---|" * 13]
    for n in names:
        p = RESULTS / f"baselines_{n}.json"
        if not p.exists():
            continue
        r = json.loads(p.read_text())
        seqs = ", ".join(r["sequences"]) if len(r["sequences"]) <= 3 else f"{len(r['sequences'])} records"
        lines.append(
            f"| {r['case']} | {r['tool']} {r['tool_version']} | {r['param']} | {seqs} | {r['bp']:,} "
            f"| {_f1(r, 'nucleotide')} | {_f1(r, 'exon')} | {_f1(r, 'gene')} | {_f1(r, 'stop')} "
            f"| {_f1(r, 'start_stop')} | {r['bp_per_s']:,.0f} | {r['seconds']:.1f} "
            f"| {r['bp_per_cpu_s']:,.0f} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("cases", nargs="*", help="case names (see --list)")
    ap.add_argument("--all", action="store_true", help="run every case")
    ap.add_argument("--list", action="store_true", help="list cases and exit")
    ap.add_argument("--jobs", type=int, default=2, help="max tool processes at once (default 2)")
    ap.add_argument("--score-only", action="store_true",
                    help="re-score predictions kept in bench/results/work/<case>/ without re-running tools")
    ap.add_argument("--table", action="store_true", help="print a Markdown table of stored results")
    a = ap.parse_args(argv)
    if a.list:
        for c in CASES.values():
            print(f"{c.name:32s} {c.tool:9s} {c.param:32s} {c.genome_dir} {c.sequences or ''}")
        return 0
    names = list(CASES) if a.all or (a.table and not a.cases) else a.cases
    bad = [n for n in names if n not in CASES]
    if bad:
        ap.error(f"unknown case(s): {bad}; see --list")
    if a.table:
        print(table(names))
        return 0
    if not names:
        ap.error("name at least one case, or --all")
    WORK.mkdir(parents=True, exist_ok=True)
    gi = WORK / ".gitignore"
    if not gi.exists():
        gi.write_text("*\n!.gitignore\n")
    for n in names:
        t0 = time.perf_counter()
        r = run_case(CASES[n], jobs=a.jobs, score_only=a.score_only)
        status = "scored" if r.get("scores") else f"not scored ({r.get('score_error')})"
        print(f"{n}: {r['bp']:,} bp, {r['seconds']:.1f} s tool wall, {r['bp_per_s']:,.0f} bp/s, "
              f"{status} [{time.perf_counter() - t0:.1f} s total]", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
