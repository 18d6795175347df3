"""Bake raw genomes + annotations into GeneT5 training windows (see docs/data.md).

Each sequence is cut into windows of ``window`` bases overlapping by ``overlap`` (the last
window is aligned to the sequence end, so every window is full length unless the whole
sequence is shorter). Each genomic window is written on both strands. The minus-strand sample
is built by *transforming coordinates*, not by a second code path: the sequence is reverse
complemented and every transcript is mirrored (x -> L + 1 - x, strand flipped, transcription
order kept), after which the plus-strand codec applies unchanged. Per-base labels need no
mirroring work: they are strand-free (CDS frame counts along transcription), so the minus
labels are the plus labels reversed (a test checks this against the mirrored transcripts).

Genes cut by a window edge become partial genes via the codec's CUT_LEFT / CUT_RIGHT; a gene
whose annotated partial end lies inside the window cannot be written and is counted
(``genes_unrepresentable``). Pseudogenes are excluded from targets and labels.

Work is per entry (genome): one process per entry with ``workers > 1``; each entry's shards
and ``stats.json`` are written atomically, then a ``DONE.json`` marker carrying the hash of
the content options, so a rerun skips finished entries and redoes half-done ones.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator

import numpy as np

from genet5.atomic import atomic_write
from genet5.data.shards import SHARD_FORMAT, write_safetensors
from genet5.data.splits import GROUP_RULES, Entry, discover, holdout_from_splits, resolve_holdout
from genet5.genome.fasta import read_fasta
from genet5.genome.models import GenomeFormatError, Segment, Transcript
from genet5.genome.validate import check_inside
from genet5.tokenizers.annotation import (
    IGNORE,
    BaseClass,
    _clip_transcript,
    encode_genes,
    per_base_labels,
    transcripts_to_genes,
)
from genet5.tokenizers.nucleotide import A_ID, C_ID, G_ID, N_ID, T_ID, NucleotideTokenizer

# Reverse complement on ids: C<->G, T<->A, N and specials unchanged.
COMPLEMENT_IDS = np.arange(256, dtype=np.uint8)
COMPLEMENT_IDS[[C_ID, G_ID, T_ID, A_ID]] = [G_ID, C_ID, A_ID, T_ID]
_TOKENIZER = NucleotideTokenizer()


@dataclass
class BakeConfig:
    window: int = 4096
    overlap: int = 512
    both_strands: bool = True
    subset: float = 1.0  # deterministic fraction of windows kept per entry
    seed: int = 0
    max_n: float = 0.5  # windows with a larger fraction of N are skipped (and counted)
    shard_windows: int = 4096  # windows per shard file (4096 x 4096 bases ~ 32 MiB of ids)
    group_by: str = "species"
    holdout: list[str] = field(default_factory=list)
    splits: Path | None = None  # a splits.tsv: its `validation` entries are held out too
    workers: int = 1

    # Options that change the bytes of a shard; a done-marker with another hash is redone.
    CONTENT = ("window", "overlap", "both_strands", "subset", "seed", "max_n", "shard_windows")

    def check(self) -> None:
        if self.window < 16:
            raise ValueError(f"--window must be at least 16, got {self.window}")
        if not 0 <= self.overlap < self.window:
            raise ValueError(f"--overlap must be in [0, window), got {self.overlap}")
        if not 0.0 < self.subset <= 1.0:
            raise ValueError(f"--subset must be in (0, 1], got {self.subset}")
        if not 0.0 <= self.max_n <= 1.0:
            raise ValueError(f"--max-n must be in [0, 1], got {self.max_n}")
        if self.shard_windows < 1 or self.workers < 1:
            raise ValueError("--shard-windows and --workers must be positive")
        if self.group_by not in GROUP_RULES:
            raise ValueError(f"--group-by must be one of {', '.join(GROUP_RULES)}, got {self.group_by!r}")

    def content_hash(self) -> str:
        d = {k: getattr(self, k) for k in self.CONTENT}
        d["format"] = SHARD_FORMAT
        return hashlib.sha256(json.dumps(d, sort_keys=True).encode()).hexdigest()[:16]

    def entry_hash(self, entry: Entry) -> str:
        """The content hash of one genome's shards: the options, what the manifest says of it
        (species, genetic code) and its input files' identity (size and modification time: a
        fixed annotation is baked again, an unchanged one costs two stat calls)."""
        files = [entry.genome] + ([entry.annotation] if entry.annotation is not None else [])
        ids = []
        for f in files:  # not the path: the same files named another way are the same inputs
            st = Path(f).stat()  # through symlinks: the file read
            ids.append([st.st_size, st.st_mtime_ns])
        d = {"content": self.content_hash(), "species": entry.species, "genetic_code": entry.genetic_code, "inputs": ids}
        return hashlib.sha256(json.dumps(d, sort_keys=True).encode()).hexdigest()[:16]

    def to_json(self) -> dict[str, Any]:
        d = dataclasses.asdict(self)
        d["splits"] = None if self.splits is None else str(self.splits)
        return d


# -- geometry --------------------------------------------------------------------------------
def window_starts(length: int, window: int, overlap: int) -> list[tuple[int, int]]:
    """1-based closed windows covering [1, length]; the last one is aligned to the end."""
    if length <= window:
        return [(1, length)] if length > 0 else []
    stride = window - overlap
    starts = list(range(1, length - window + 2, stride))
    if starts[-1] + window - 1 < length:
        starts.append(length - window + 1)
    return [(s, s + window - 1) for s in starts]


def mirror_transcript(tx: Transcript, length: int) -> Transcript:
    """The transcript on the reverse complement of a ``length``-base sequence."""
    flip = {"+": "-", "-": "+"}

    def m(segs: list[Segment]) -> list[Segment]:  # transcription order is unchanged
        return [Segment(length + 1 - s.end, length + 1 - s.start, flip[s.strand]) for s in segs]

    return dataclasses.replace(tx, strand=flip[tx.strand], cds=m(tx.cds), exons=m(tx.exons))


def reverse_complement_ids(ids: np.ndarray) -> np.ndarray:
    return COMPLEMENT_IDS[ids[::-1]]


def _keep(seed: int, key: str, seqid: str, start: int, strand: int, fraction: float) -> bool:
    """Deterministic per-window coin: independent of worker count and processing order."""
    if fraction >= 1.0:
        return True
    h = hashlib.blake2b(f"{seed}|{key}|{seqid}|{start}|{strand}".encode(), digest_size=8).digest()
    return int.from_bytes(h, "little") / 2.0**64 < fraction


def _select(genes) -> tuple[list[Transcript], list[Transcript], int]:
    """(label transcripts, target transcripts (one per gene), pseudo transcripts excluded).

    The target isoform is chosen once per gene with the codec's own rule (longest CDS), so that
    giving the codec only the transcripts near a window picks the same isoform as giving all.
    """
    labels, targets, pseudo = [], [], 0
    for g in genes:
        best = None
        for tx in g.transcripts:
            if g.pseudo or tx.pseudo:
                pseudo += 1
                continue
            labels.append(tx)
            if tx.is_coding and not tx.unusual_order and (best is None or tx.cds_length > best.cds_length):
                best = tx
        if best is not None:
            targets.append(best)
    return labels, targets, pseudo


# -- one sequence ----------------------------------------------------------------------------
@dataclass
class Sample:
    seq: int
    start: int
    end: int
    strand: int
    ids: np.ndarray  # uint8
    labels: np.ndarray  # uint8
    types: list[int]
    ptrs: list[int]


def sequence_samples(
    seq_index: int, seqid: str, ids_all: np.ndarray, genes, cfg: BakeConfig, key: str, stats: dict
) -> Iterator[Sample]:
    """All kept windows of one sequence, plus and minus strand, in genomic order."""
    L = len(ids_all)
    label_txs, target_txs, _ = _select(genes)
    target_ids = {id(t) for t in target_txs}
    label_txs.sort(key=lambda t: t.start)
    mirrored: dict[int, Transcript] = {}
    active: list[Transcript] = []
    nxt = 0
    for s, e in window_starts(L, cfg.window, cfg.overlap):
        # sweep: transcripts overlapping [s, e] (windows come in increasing order)
        while nxt < len(label_txs) and label_txs[nxt].start <= e:
            active.append(label_txs[nxt])
            nxt += 1
        active = [t for t in active if t.end >= s]
        ids = ids_all[s - 1 : e]
        n = e - s + 1
        strands = (1, -1) if cfg.both_strands else (1,)
        if np.count_nonzero(ids == N_ID) > cfg.max_n * n:
            stats["windows_skipped_n"] += len(strands)
            continue
        keep = [st for st in strands if _keep(cfg.seed, key, seqid, s, st, cfg.subset)]
        stats["windows_dropped_subset"] += len(strands) - len(keep)
        if not keep:
            continue
        labels = per_base_labels(active, s, n).astype(np.uint8)
        targets = [t for t in active if id(t) in target_ids]
        for st in keep:
            if st == 1:
                txs, ws, w_ids, w_labels = targets, s, ids, labels
            else:
                for t in targets:
                    if id(t) not in mirrored:
                        mirrored[id(t)] = mirror_transcript(t, L)
                txs = [mirrored[id(t)] for t in targets]
                ws, w_ids, w_labels = L + 1 - e, reverse_complement_ids(ids), labels[::-1]
            structs = transcripts_to_genes(txs, ws, n)
            types, ptrs = encode_genes(structs, n)
            overlapping = sum(_clip_transcript(t, ws, n) is not None for t in txs)
            partial = sum(g.cut_left or g.cut_right for g in structs)
            stats["genes"] += len(structs)
            stats["partial_genes"] += partial
            stats["genes_unrepresentable"] += overlapping - len(structs)
            stats["windows"] += 1
            stats["windows_plus" if st == 1 else "windows_minus"] += 1
            stats["max_target_tokens"] = max(stats["max_target_tokens"], len(types))
            yield Sample(seq_index, s, e, st, np.ascontiguousarray(w_ids), np.ascontiguousarray(w_labels), types, ptrs)


# -- shards ----------------------------------------------------------------------------------
class ShardWriter:
    def __init__(self, out_root: Path, key: str, species: str, per_shard: int):
        self.root, self.key, self.species, self.per_shard = out_root, key, species, per_shard
        self.dir = out_root / "species" / key
        self.buf: list[tuple[Sample, int]] = []
        self.shards: list[dict[str, Any]] = []
        self.seqids: list[str] = []

    def add(self, sample: Sample, code: int) -> None:
        self.buf.append((sample, code))
        if len(self.buf) >= self.per_shard:
            self.flush()

    def flush(self) -> None:
        if not self.buf:
            return
        samples = [s for s, _ in self.buf]
        blen = np.array([len(s.ids) for s in samples], np.int64)
        tlen = np.array([len(s.types) for s in samples], np.int64)
        tensors = {
            "ids": np.concatenate([s.ids for s in samples]),
            "labels": np.concatenate([s.labels for s in samples]),
            "base_offsets": np.concatenate([[0], np.cumsum(blen)]).astype(np.int64),
            "types": np.concatenate([np.asarray(s.types, np.uint8) for s in samples]),
            "ptrs": np.concatenate([np.asarray(s.ptrs, np.int32) for s in samples]),
            "tok_offsets": np.concatenate([[0], np.cumsum(tlen)]).astype(np.int64),
            "windows": np.array([[s.seq, s.start, s.end, s.strand, c] for s, c in self.buf], np.int64),
        }
        name = f"shard-{len(self.shards):05d}.safetensors"
        meta = {"format": SHARD_FORMAT, "species": self.species, "seqids": json.dumps(self.seqids)}
        digest = write_safetensors(self.dir / name, tensors, meta)
        self.shards.append(
            {
                "file": f"species/{self.key}/{name}",
                "sha256": digest,
                "windows": len(samples),
                "bases": int(blen.sum()),
                "tokens": int(tlen.sum()),
                "bytes": (self.dir / name).stat().st_size,
            }
        )
        self.buf = []


def _new_stats() -> dict[str, Any]:
    keys = (
        "sequences", "sequences_unannotated", "genome_bases", "windows", "windows_plus", "windows_minus",
        "windows_skipped_n", "windows_dropped_subset", "genes", "partial_genes", "genes_unrepresentable",
        "max_target_tokens", "target_tokens", "pseudo_transcripts_excluded", "annotated_genes", "genes_not_in_fasta",
    )  # fmt: skip
    return {k: 0 for k in keys}


def bake_entry(entry: Entry, out_root: Path, cfg: BakeConfig, progress: Callable[[int], None] | None = None) -> dict:
    """Bake one genome; returns its DONE record (shards + stats). Skips if already done."""
    from genet5.genome.readers import load_annotation

    sp_dir = out_root / "species" / entry.key
    done_path = sp_dir / "DONE.json"
    chash = cfg.entry_hash(entry)
    if done_path.is_file():
        done = json.loads(done_path.read_text())
        if done.get("content_hash") == chash and all((out_root / s["file"]).is_file() for s in done["shards"]):
            if progress:
                progress(done["stats"]["genome_bases"])
            return done
    sp_dir.mkdir(parents=True, exist_ok=True)
    for stale in list(sp_dir.glob("shard-*.safetensors")) + [done_path]:
        stale.unlink(missing_ok=True)  # a half-finished earlier run, or other options
    if entry.annotation is None:
        raise GenomeFormatError(entry.genome.parent, None, "no annotation file: GeneT5 bake needs genes")
    annot = load_annotation(entry.annotation)
    stats = _new_stats()
    stats["annotated_genes"] = annot.n_genes
    labels_hist = np.zeros(len(BaseClass), np.int64)
    writer = ShardWriter(out_root, entry.key, entry.species, cfg.shard_windows)
    in_fasta: set[str] = set()
    for rec in read_fasta(entry.genome):
        in_fasta.add(rec.id)
        stats["sequences"] += 1
        stats["genome_bases"] += len(rec.seq)
        genes = annot.genes.get(rec.id, [])
        check_inside(annot, rec.id, len(rec.seq))  # as predict, eval and stats refuse them
        if not genes:  # unannotated sequence (e.g. an organelle left out): its genes are unknown
            stats["sequences_unannotated"] += 1
            if progress:
                progress(len(rec.seq))
            continue
        stats["pseudo_transcripts_excluded"] += _select(genes)[2]
        code = annot.genetic_codes.get(rec.id) or entry.genetic_code or 1
        writer.seqids.append(rec.id)
        ids_all = _TOKENIZER.encode(rec.seq, dtype=np.uint8)
        done_bases = 0
        for sample in sequence_samples(len(writer.seqids) - 1, rec.id, ids_all, genes, cfg, entry.key, stats):
            labels_hist += np.bincount(sample.labels, minlength=len(BaseClass))[: len(BaseClass)]
            stats["target_tokens"] += len(sample.types)
            writer.add(sample, code)
            if progress and sample.end - done_bases > 1_000_000:
                progress(sample.end - done_bases)
                done_bases = sample.end
        if progress:
            progress(len(rec.seq) - done_bases)
    writer.flush()
    # genes on sequences the FASTA does not hold (another naming, a sequence left out) cannot be
    # baked: counted, and their seqids kept for the warning bake() prints
    absent = sorted(sid for sid, genes in annot.genes.items() if genes and sid not in in_fasta)
    stats["genes_not_in_fasta"] = sum(len(annot.genes[sid]) for sid in absent)
    stats["bases_by_label"] = {c.name.lower(): int(n) for c, n in zip(BaseClass, labels_hist)}
    stats["bytes"] = sum(s["bytes"] for s in writer.shards)
    with atomic_write(sp_dir / "stats.json") as fh:
        json.dump({"key": entry.key, "species": entry.species, **stats}, fh, indent=1)
    done = {"key": entry.key, "content_hash": chash, "shards": writer.shards, "stats": stats,
            "seqids_not_in_fasta": absent}  # fmt: skip
    with atomic_write(done_path) as fh:  # last: marks the entry finished
        json.dump(done, fh, indent=1)
    return done


# -- whole collection ------------------------------------------------------------------------
def _worker(args) -> dict:
    entry, out_root, cfg = args
    try:
        return bake_entry(entry, out_root, cfg)
    except GenomeFormatError as err:  # its 3-argument __init__ does not survive pickling
        return {"key": entry.key, "error": str(err)}


def plan(raw: Path, cfg: BakeConfig) -> tuple[list[Entry], set[str]]:
    """Entries and held-out groups; raises on bad input before anything is written."""
    cfg.check()
    entries = discover(raw)
    for e in entries:
        if e.annotation is None:  # named by the genome: a lone FASTA's folder is only "."
            raise GenomeFormatError(e.genome, None, "no annotation beside this genome (an annotation.gff3, .gff, "
                                    ".gtf or .gbff file, gzip too, in its folder): GeneT5 bake needs genes")
    names = list(cfg.holdout) + (holdout_from_splits(entries, Path(cfg.splits), cfg.group_by) if cfg.splits else [])
    held = resolve_holdout(entries, names, cfg.group_by)
    if entries and all(e.group(cfg.group_by) in held for e in entries):
        raise ValueError("every input is held out (--holdout / --splits): the train split would be empty")
    return entries, held


def _to_stderr(line: str) -> None:
    print(line, file=sys.stderr)


def bake(
    raw: Path, out_root: Path, cfg: BakeConfig, show_progress: bool = True, log: Callable[[str], None] = _to_stderr
) -> dict[str, Any]:
    """Bake every entry of ``raw`` into ``out_root``; returns the index (also index.json). `log`
    gets a warning line per genome with genes on sequences its FASTA lacks. A bake whose train
    split holds no window is a ValueError, with no index.json (the finished genomes are kept)."""
    import genet5

    entries, held = plan(raw, cfg)
    out_root.mkdir(parents=True, exist_ok=True)
    (out_root / "species").mkdir(exist_ok=True)
    # An index from an earlier bake would describe shards this run may replace: until the new
    # index is written, the directory reads as unfinished.
    (out_root / "index.json").unlink(missing_ok=True)
    config = {"raw": str(raw), **cfg.to_json(), "content_hash": cfg.content_hash(), "format": SHARD_FORMAT,
              "genet5_version": getattr(genet5, "__version__", "unknown")}  # fmt: skip
    with atomic_write(out_root / "bake_config.json") as fh:
        json.dump(config, fh, indent=1)
    # Largest genomes first so that the pool does not end on one big straggler.
    order = sorted(entries, key=lambda e: -e.genome.stat().st_size)
    total = sum(e.genome.stat().st_size for e in entries)
    results: dict[str, dict] = {}
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

    with Progress(
        TextColumn("bake"), BarColumn(), TextColumn("{task.fields[done]}/{task.fields[n]} genomes"),
        TimeElapsedColumn(), TimeRemainingColumn(), disable=not show_progress, transient=False,
    ) as bar:  # fmt: skip
        # progress in genome file bytes: finished entries weighted by size
        task = bar.add_task("bake", total=total, done=0, n=len(entries))
        if cfg.workers <= 1:
            for e in order:
                results[e.key] = bake_entry(e, out_root, cfg)
                bar.update(task, advance=e.genome.stat().st_size, done=len(results))
        else:
            import multiprocessing as mp

            # spawn, not fork: a forked worker can inherit a lock another thread held at the fork
            # (rare hangs seen under load); the workers import what they need themselves
            ctx = mp.get_context("spawn")
            with ctx.Pool(cfg.workers) as pool:
                jobs = [(e, out_root, cfg) for e in order]
                sizes = {e.key: e.genome.stat().st_size for e in order}
                for r in pool.imap_unordered(_worker, jobs):  # re-raises a worker's crash here
                    if "error" in r:
                        raise ValueError(r["error"])
                    results[r["key"]] = r
                    bar.update(task, advance=sizes[r["key"]], done=len(results))
    for e in sorted(entries, key=lambda e: e.key):
        absent = results[e.key].get("seqids_not_in_fasta") or []
        if absent:
            st = results[e.key]["stats"]
            shown = ", ".join(absent[:5]) + (f" and {len(absent) - 5} more" if len(absent) > 5 else "")
            log(f"genet5: warning: {e.annotation}: {st['genes_not_in_fasta']} of {st['annotated_genes']} genes are on "
                f"{len(absent)} sequence(s) not in {e.genome} ({shown}): left out of the bake")  # fmt: skip
    train = [e for e in entries if e.group(cfg.group_by) not in held]
    if not sum(results[e.key]["stats"]["windows"] for e in train):
        st = {k: sum(results[e.key]["stats"].get(k, 0) for e in train)
              for k in ("annotated_genes", "genes_not_in_fasta", "windows_skipped_n", "windows_dropped_subset")}  # fmt: skip
        if not st["annotated_genes"]:
            why = "its annotations hold no genes"
        elif st["genes_not_in_fasta"] == st["annotated_genes"]:
            why = "its genes are all on sequences missing from the FASTA files"
        else:
            why = f"{st['windows_skipped_n']} windows over --max-n, {st['windows_dropped_subset']} left out by --subset"
        raise ValueError(f"the train split holds no windows ({why}): nothing to train on")
    index = write_index(out_root, entries, held, cfg, results)
    return index


def write_index(out_root: Path, entries: list[Entry], held: set[str], cfg: BakeConfig, results: dict) -> dict:
    species = []
    for e in sorted(entries, key=lambda e: e.key):
        r = results[e.key]
        group = e.group(cfg.group_by)
        species.append(
            {
                "key": e.key,
                "species": e.species,
                "group": group,
                "taxon": e.taxon,
                "split": "valid" if group in held else "train",
                "shards": r["shards"],
                "windows": r["stats"]["windows"],
                "bases": sum(s["bases"] for s in r["shards"]),
            }
        )
    totals = {
        split: {
            "species": sum(s["split"] == split for s in species),
            "windows": sum(s["windows"] for s in species if s["split"] == split),
            "bases": sum(s["bases"] for s in species if s["split"] == split),
        }
        for split in ("train", "valid")
    }
    index = {"format": SHARD_FORMAT, "content_hash": cfg.content_hash(), "holdout_groups": sorted(held),
             "totals": totals, "species": species}  # fmt: skip
    with atomic_write(out_root / "index.json") as fh:
        json.dump(index, fh, indent=1)
    return index


__all__ = ["BakeConfig", "bake", "bake_entry", "mirror_transcript", "window_starts", "reverse_complement_ids", "IGNORE"]
