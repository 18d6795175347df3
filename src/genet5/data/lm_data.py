"""Genos pretraining data: FASTA corpora as token shards, a window sampler, the context schedule.

Bake (``genet5 lm bake``): every FASTA record is one *document*. Shards are safetensors files
(read by memory map, see genet5.data.shards) holding

    ids          uint8 (bases,)     nucleotide ids, documents back to back
    doc_offsets  int64 (docs+1,)    document d is ids[doc_offsets[d]:doc_offsets[d+1]]

with the document names in the header metadata (``docs``, JSON list of "entry/seqid"). A shard
ends only between documents, so a document is never split: a 1M-token window can be cut from
any chromosome longer than that. Held-out species (``--holdout``, same rules as the GeneT5
bake) go to ``valid/``, the rest to ``train/``.

Sampling (``LMWindowSampler``) is stateless: sample ``slot`` of step ``step`` is drawn from an
RNG seeded by (seed, step, slot), so a resumed run sees exactly the data it would have seen,
and ranks draw disjoint slots. Windows start at a uniform base of the corpus (documents are
chosen in proportion to length); a document shorter than the context is packed with windows
of further documents, and ``doc_ids`` tells attention where each document starts (Genos
``doc_ids_BT``), so no token attends across a boundary.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import tempfile
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Iterable

import numpy as np

from genet5.atomic import atomic_write
from genet5.data.bake import reverse_complement_ids
from genet5.data.shards import Shard, sha256_file, write_safetensors
from genet5.data.splits import GROUP_RULES, discover, holdout_from_splits, resolve_holdout
from genet5.genome.fasta import read_fasta
from genet5.genome.models import GenomeFormatError
from genet5.tokenizers.nucleotide import A_ID, C_ID, N_ID, NucleotideTokenizer

LM_FORMAT = "genet5-lm-v1"


# -- bake ------------------------------------------------------------------------------------
def lm_bake(
    inputs: Iterable[Path],
    out_root: Path,
    shard_bases: int = 1 << 28,
    min_length: int = 1,
    holdout: list[str] | None = None,
    group_by: str = "species",
    progress=None,
    splits: Path | None = None,
) -> dict[str, Any]:
    """Bake FASTA files / species directories / manifests into LM token shards; returns index.
    `splits`: a splits.tsv whose `validation` entries are held out (with any `holdout` names)."""
    if group_by not in GROUP_RULES:
        raise ValueError(f"--group-by must be one of {', '.join(GROUP_RULES)}, got {group_by!r}")
    if shard_bases < 1 or min_length < 1:
        raise ValueError("--shard-bases and --min-length must be positive")
    out_root = Path(out_root)
    if out_root.exists() and not out_root.is_dir():
        raise ValueError(f"{out_root}: exists and is not a directory")
    entries = _distinct_keys([e for p in inputs for e in discover(Path(p))])
    names = list(holdout or []) + (holdout_from_splits(entries, Path(splits), group_by) if splits else [])
    held = resolve_holdout(entries, names, group_by)
    if entries and all(e.group(group_by) in held for e in entries):
        raise ValueError("every input is held out (--holdout / --splits): the train split would be empty")
    # Written into a directory beside OUT_DIR and moved into place when complete: a bake that fails
    # half-way leaves the previous bake as it was (or no OUT_DIR at all), never shards of two bakes
    # under one index.json.
    made = [d for d in reversed(out_root.absolute().parents) if not d.exists()]  # removed again on failure
    out_root.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f".{out_root.name}.", suffix=".baking", dir=out_root.parent))
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(work, 0o777 & ~umask)  # mkdtemp's 0700 would become OUT_DIR's mode
    try:
        index = _bake_into(work, entries, held, group_by, shard_bases, min_length, progress)
        _move_bake(work, out_root)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        for d in reversed(made):
            with contextlib.suppress(OSError):
                d.rmdir()
        raise
    shutil.rmtree(work, ignore_errors=True)  # emptied by the move (gone if renamed whole)
    return index


def _bake_into(root: Path, entries: list, held: set, group_by: str, shard_bases: int, min_length: int, progress) -> dict[str, Any]:
    tok = NucleotideTokenizer()
    writers = {s: _LMShardWriter(root, s, shard_bases) for s in ("train", "valid")}
    skipped_short = {"train": 0, "valid": 0}
    for e in entries:
        split = "valid" if e.group(group_by) in held else "train"
        for rec in read_fasta(e.genome):
            if len(rec.seq) < min_length:
                skipped_short[split] += 1
                continue
            writers[split].add(f"{e.key}/{rec.id}", tok.encode(rec.seq, dtype=np.uint8))
            if progress:
                progress(len(rec.seq))
    for w in writers.values():
        w.flush()
    if not writers["train"].shards:  # pretraining on it could only fail later
        why = f"all {skipped_short['train']:,} sequences of the training inputs are shorter than --min-length " \
            f"{min_length}" if skipped_short["train"] else "the training inputs hold no sequence"  # fmt: skip
        raise ValueError(f"the train split would be empty: {why}")
    index = {
        "format": LM_FORMAT,
        "holdout_groups": sorted(held),
        "documents_skipped_short": sum(skipped_short.values()),
        "entries": [{"key": e.key, "species": e.species, "group": e.group(group_by),
                     "split": "valid" if e.group(group_by) in held else "train"} for e in entries],  # fmt: skip
        "splits": {s: {"shards": w.shards, "documents": sum(x["documents"] for x in w.shards),
                       "bases": sum(x["bases"] for x in w.shards)} for s, w in writers.items()},  # fmt: skip
    }
    with atomic_write(root / "index.json") as fh:
        json.dump(index, fh, indent=1)
    return index


# LMCorpus.check hashes corpora up to this size (0.7 s per GB from the page cache on a 2-core Xeon;
# the 20 Mb prokaryote corpus ~15 ms)
SHA_CHECK_MAX_BYTES = 2 << 30

BAKE_ITEMS = ("index.json", "train", "valid")  # what an LM bake consists of


def _move_bake(work: Path, out_root: Path) -> None:
    """The finished bake `work` as `out_root`: renamed whole when out_root is new; else the old
    bake's items are swapped for the new ones (index.json last, so a directory with an index
    always holds that index's shards) and anything else in out_root is left alone."""
    if not out_root.exists():
        os.replace(work, out_root)
        return
    old = work.with_suffix(".old")
    old.mkdir()
    for name in BAKE_ITEMS:  # index.json first: out_root is no bake until the new index arrives
        if (out_root / name).exists():
            os.replace(out_root / name, old / name)
    for name in reversed(BAKE_ITEMS):
        if (work / name).exists():
            os.replace(work / name, out_root / name)
    shutil.rmtree(old, ignore_errors=True)


def _distinct_keys(entries: list) -> list:
    """The same FASTA file given twice is an error; different files that happen to share a key
    (A/genome.fa.gz and B/genome.fa.gz, two x.fa in different folders) are told apart by their
    folders rather than refused."""
    seen: dict[Path, Path] = {}
    for e in entries:
        real = Path(e.genome).resolve()
        if real in seen:
            raise ValueError(f"{e.genome} is listed twice among the inputs (drop one)")
        seen[real] = Path(e.genome)
    keys = [e.key for e in entries]
    out, used = [], set()
    for e in entries:
        key = e.key
        if keys.count(key) > 1:  # x/reads.fa and y/reads.fa -> x__reads, y__reads
            key = f"{_safe(Path(e.genome).resolve().parent.name)}__{key}"
        base, n = key, 1
        while key in used:  # same folder name too: number them
            n += 1
            key = f"{base}_{n}"
        used.add(key)
        out.append(e if key == e.key else replace(e, key=key))
    return out


def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", name)


class _LMShardWriter:
    def __init__(self, root: Path, split: str, shard_bases: int):
        self.root, self.split, self.shard_bases = root, split, shard_bases
        self.docs: list[tuple[str, np.ndarray]] = []
        self.size = 0
        self.shards: list[dict[str, Any]] = []

    def add(self, name: str, ids: np.ndarray) -> None:
        if self.docs and self.size + len(ids) > self.shard_bases:
            self.flush()  # shards end between documents only
        self.docs.append((name, ids))
        self.size += len(ids)

    def flush(self) -> None:
        if not self.docs:
            return
        (self.root / self.split).mkdir(exist_ok=True)
        lens = np.array([len(d) for _, d in self.docs], np.int64)
        tensors = {"ids": np.concatenate([d for _, d in self.docs]),
                   "doc_offsets": np.concatenate([[0], np.cumsum(lens)]).astype(np.int64)}  # fmt: skip
        name = f"{self.split}/shard-{len(self.shards):05d}.safetensors"
        meta = {"format": LM_FORMAT, "docs": json.dumps([n for n, _ in self.docs])}
        digest = write_safetensors(self.root / name, tensors, meta)
        self.shards.append({"file": name, "sha256": digest, "documents": len(self.docs), "bases": int(lens.sum())})
        self.docs, self.size = [], 0


# -- reading ---------------------------------------------------------------------------------
class LMCorpus:
    """Documents of one split of an LM bake, by memory map."""

    def __init__(self, root: str | os.PathLike, split: str = "train"):
        self.root = Path(root)
        path = self.root / "index.json"
        if not path.is_file():
            raise GenomeFormatError(path, None, "no index.json: not a finished LM bake")
        index = json.loads(path.read_text())
        if index.get("format") != LM_FORMAT:
            raise GenomeFormatError(path, None, f"format {index.get('format')!r}, expected {LM_FORMAT}")
        if split not in index["splits"]:
            raise ValueError(f"split must be one of {', '.join(index['splits'])}, got {split!r}")
        self.shard_info = index["splits"][split]["shards"]
        self._shards: list[Shard | None] = [None] * len(self.shard_info)
        # document table: shard, offset, length (small: one row per sequence)
        rows, self.names = [], []
        for k, info in enumerate(self.shard_info):
            sh = self.shard(k)
            off = np.asarray(sh["doc_offsets"])
            # a shard rewritten by another bake under an old index.json (cheap: the header's sizes)
            if len(sh["ids"]) != info["bases"] or len(off) - 1 != info["documents"] or (len(off) and off[-1] != len(sh["ids"])):
                raise GenomeFormatError(sh.path, None, f"{len(sh['ids']):,} bases in {len(off) - 1:,} documents, but "
                                        f"index.json says {info['bases']:,} in {info['documents']:,}: the bake was "
                                        "changed or left unfinished; bake it again")  # fmt: skip
            rows.append(np.stack([np.full(len(off) - 1, k), off[:-1], np.diff(off)], axis=1))
            self.names += json.loads(sh.metadata.get("docs", "[]"))
        self.docs = np.concatenate(rows).astype(np.int64) if rows else np.zeros((0, 3), np.int64)
        self.cum = np.concatenate([[0], np.cumsum(self.docs[:, 2])]) if len(self.docs) else np.zeros(1, np.int64)

    def __getstate__(self):
        state = dict(self.__dict__)
        state["_shards"] = [None] * len(self.shard_info)
        return state

    def shard(self, k: int) -> Shard:
        if self._shards[k] is None:
            self._shards[k] = Shard(self.root / self.shard_info[k]["file"])
        return self._shards[k]

    def __len__(self) -> int:
        return len(self.docs)

    @property
    def total_bases(self) -> int:
        return int(self.cum[-1])

    def document(self, d: int) -> np.ndarray:
        k, off, n = (int(x) for x in self.docs[d])
        return self.shard(k)["ids"][off : off + n]

    def verify(self) -> list[str]:
        """The shard files whose sha256 differs from index.json's (reads every byte: 0.7 s per
        GB on an Intel Xeon core, 2026-12, from the page cache)."""
        return [s["file"] for s in self.shard_info if sha256_file(self.root / s["file"]) != s["sha256"]]

    def check(self, max_bytes: int | None = SHA_CHECK_MAX_BYTES) -> None:
        """Every shard as index.json recorded it (sha256), or a GenomeFormatError naming the first
        that is not: a shard rewritten by a bake that failed, or edited, is not trained on. A corpus
        of more than `max_bytes` is not hashed (every rank of a cluster run would read all of it at
        each start); its shards' sizes and document counts are still checked (__init__)."""
        if max_bytes is not None and sum((self.root / s["file"]).stat().st_size for s in self.shard_info) > max_bytes:
            return
        bad = self.verify()
        if bad:
            raise GenomeFormatError(self.root / bad[0], None, "sha256 differs from the one index.json records: the "
                                    "bake was changed or left unfinished; bake it again")  # fmt: skip

    def has_bases(self, chunk: int = 1 << 24) -> bool:
        """Whether any document holds an A, C, G or T (the only training targets); stops at the
        first chunk that does, so a usual corpus answers at once."""
        for k in range(len(self.shard_info)):
            ids = self.shard(k)["ids"]
            for i in range(0, len(ids), chunk):
                piece = np.asarray(ids[i : i + chunk])
                if np.any((piece >= C_ID) & (piece <= A_ID)):
                    return True
        return False


@dataclass
class LMWindowSampler:
    """Deterministic windows of ``context`` tokens with document ids (see module docstring)."""

    corpus: LMCorpus
    seed: int = 0
    max_n: float = 0.5  # redraw (up to 8 times) a window with more N than this
    rc_prob: float = 0.0  # reverse-complement augmentation
    schedule: "ContextSchedule | None" = None

    def sample(self, step: int, slot: int, context: int) -> dict[str, np.ndarray]:
        if self.corpus.total_bases == 0:
            raise ValueError("empty corpus")
        rng = np.random.default_rng([self.seed, step, slot])
        ids = np.empty(context, np.uint8)
        doc_ids = np.empty(context, np.int32)
        filled, piece = 0, 0
        while filled < context:
            want = context - filled
            for _ in range(8):  # redraw N-heavy windows
                d, start, n = self._draw(rng, want)
                window = self.corpus.document(d)[start : start + n]
                if np.count_nonzero(window == N_ID) <= self.max_n * n:
                    break
            if self.rc_prob and rng.random() < self.rc_prob:
                window = reverse_complement_ids(window)
            ids[filled : filled + n] = window
            doc_ids[filled : filled + n] = piece
            filled, piece = filled + n, piece + 1
        return {"input_ids": ids.astype(np.int64), "doc_ids": doc_ids}

    def _draw(self, rng: np.random.Generator, want: int) -> tuple[int, int, int]:
        """A uniform base of the corpus picks the document; the window fits inside it."""
        pos = int(rng.integers(self.corpus.total_bases))
        d = int(np.searchsorted(self.corpus.cum, pos, side="right")) - 1
        length = int(self.corpus.docs[d, 2])
        n = min(want, length)
        start = int(rng.integers(length - n + 1))
        return d, start, n

    def batch(self, step: int, batch_size: int, rank: int = 0, context: int | None = None) -> dict[str, np.ndarray]:
        """Rank ``rank``'s micro-batch for ``step``: slots rank*B .. rank*B+B-1 (disjoint ranks)."""
        if context is None:
            if self.schedule is None:
                raise ValueError("give a context or a schedule")
            context = self.schedule.context_at(step)
        samples = [self.sample(step, rank * batch_size + b, context) for b in range(batch_size)]
        return {k: np.stack([s[k] for s in samples]) for k in samples[0]}


# -- progressive context schedule ------------------------------------------------------------
@dataclass(frozen=True)
class Stage:
    context: int
    steps: int | None = None  # either a step count ...
    fraction: float | None = None  # ... or a fraction of the schedule's total_steps


DEFAULT_STAGES = (Stage(8192, fraction=0.7), Stage(32768, fraction=0.1), Stage(131072, fraction=0.1), Stage(1 << 20, fraction=0.1))


@dataclass(frozen=True)
class ContextSchedule:
    """Context length by training step: 8K -> 32K -> 128K -> 1M by default.

    Stage ``i`` covers steps [boundary[i-1], boundary[i]); past the last stage the last
    context stays. Fractions are of ``total_steps``; when all stages are fractions the last
    boundary is exactly ``total_steps`` (rounding goes to the last stage).
    """

    stages: tuple[Stage, ...] = DEFAULT_STAGES
    total_steps: int | None = None
    _bounds: tuple[int, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self):
        if not self.stages:
            raise ValueError("a context schedule needs at least one stage")
        bounds, at = [], 0
        for i, st in enumerate(self.stages):
            if st.context < 1:
                raise ValueError(f"stage {i}: context must be positive, got {st.context}")
            if (st.steps is None) == (st.fraction is None):
                raise ValueError(f"stage {i}: give steps or fraction, not both or neither")
            if st.fraction is not None:
                if self.total_steps is None:
                    raise ValueError(f"stage {i} is a fraction: the schedule needs total_steps")
                if not 0 <= st.fraction <= 1:
                    raise ValueError(f"stage {i}: fraction {st.fraction} outside [0, 1]")
                n = round(st.fraction * self.total_steps)
            else:
                if st.steps < 0:
                    raise ValueError(f"stage {i}: negative steps")
                n = st.steps
            at += n
            bounds.append(at)
        if all(st.fraction is not None for st in self.stages):
            if abs(sum(st.fraction for st in self.stages) - 1.0) > 1e-6:
                raise ValueError("stage fractions must sum to 1")
            bounds[-1] = self.total_steps
        object.__setattr__(self, "_bounds", tuple(bounds))

    @classmethod
    def parse(cls, spec: str, total_steps: int | None = None) -> "ContextSchedule":
        """"8192:0.7,32768:0.1,131072:0.1,1048576:0.1" (fractions) or "8192:1000,32768:200" (steps);
        contexts may use K/M suffixes (8K = 8192, 1M = 1048576)."""
        stages = []
        for part in spec.split(","):
            try:
                ctx, amount = part.strip().split(":")
                stages.append(Stage(_parse_size(ctx), fraction=float(amount)) if "." in amount
                              else Stage(_parse_size(ctx), steps=int(amount)))  # fmt: skip
            except ValueError:
                raise ValueError(f"bad schedule stage {part!r}: expected CONTEXT:STEPS or CONTEXT:FRACTION") from None
        return cls(tuple(stages), total_steps)

    def capped(self, max_context: int) -> "ContextSchedule":
        """The same schedule with no context above `max_context`; stages that end up with the
        same context merge (their steps or fractions add up)."""
        merged: list[Stage] = []
        for st in self.stages:
            ctx = min(st.context, max_context)
            if merged and merged[-1].context == ctx and (merged[-1].steps is None) == (st.steps is None):
                last = merged.pop()
                st = Stage(ctx, steps=last.steps + st.steps) if st.steps is not None else \
                    Stage(ctx, fraction=last.fraction + st.fraction)  # fmt: skip
            merged.append(Stage(ctx, steps=st.steps, fraction=st.fraction))
        return ContextSchedule(tuple(merged), self.total_steps)

    @property
    def boundaries(self) -> tuple[int, ...]:
        return self._bounds

    def stage_at(self, step: int) -> int:
        return min(int(np.searchsorted(self._bounds, step, side="right")), len(self.stages) - 1)

    def context_at(self, step: int) -> int:
        return self.stages[self.stage_at(step)].context

    def batch_size_at(self, step: int, tokens_per_batch: int) -> int:
        """Sequences per batch that keep tokens per step constant as the context grows."""
        return max(1, tokens_per_batch // self.context_at(step))


def _parse_size(s: str) -> int:
    s = s.strip().upper()
    mult = {"K": 1 << 10, "M": 1 << 20}.get(s[-1:], 1)
    return int(s[:-1] if mult > 1 else s) * mult
