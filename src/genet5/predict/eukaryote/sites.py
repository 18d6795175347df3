"""Splice-site, start and stop evidence from the trained classifier (models/sites.py) for the
gene-structure HMM: per-position log-likelihood ratios of donors, acceptors, starts (and stops,
for a model with a stop readout) on both strands,
aligned to the positions where the HMM's splice edges are gated (viterbi_hmm.GeneHMM "site"
terms):

    "don"   plus donor,      at the exon's last base j (intron starts at j + 1)
    "acc"   plus acceptor,   at the exon's first base t (intron ended at t - 1)
    "racc"  minus acceptor,  at j, the last base (forward) of the exon left of the intron
    "rdon"  minus donor,     at t, the first base (forward) of the exon right of the intron
    "start"  plus start,     at t, the ATG's first base
    "rstart" minus start,    at t, the middle base of the forward CAT
    "stop"  plus stop,       at t, the base after the stop codon (the gene ends at t - 1)
    "rstop" minus stop,      at t, the first base of the forward TTA/CTA/TCA

Positions that are not a candidate dinucleotide get 0 (the HMM's dinucleotide gates already
forbid them). Each strand is convolved once; windows are then read at the candidates only, in
chunks, a block of the sequence at a time: memory stays at a few channels per base of one block.
"""

from __future__ import annotations

import hashlib
from contextlib import contextmanager

import numpy as np
import torch
from torch import nn

from genet5.genome.codes import reverse_complement
from genet5.models.sites import STOP, SiteNet
from genet5.models.weights import load_model
from genet5.predict.prokaryote.orfs import base_codes

BUNDLED_SITE_MODEL = "gene-sites"
# candidate windows read at once: a chunk's gathered windows (10 kB each) stay in cache for
# the readout's matmul: a 1 Mb worm strand's donors in 0.21 s, 0.50 s with 8,192 a chunk (84 MB;
# 2026-12-04, 1 thread, load ~4). The matmul's row blocking moves a few scores by ~1e-6 (4 of
# 210k on a worm contig): the validation genomes' genes stay the same (bench/eukaryote/decoder_speed.py)
_CHUNK = 512
# bases convolved at once: 256k blocks convolve a 1 Mb worm strand in 0.13-0.17 s, 1 Mb blocks in
# 0.30 s (cache), the same features bit for bit (64k blocks and less are not: other kernels)
_BLOCK = 1 << 18


def _native_bf16() -> bool:
    try:
        return bool(torch.backends.mkldnn.is_available() and torch.ops.mkldnn._is_mkldnn_bf16_supported())
    except (AttributeError, RuntimeError):
        return False


# The readout's first layer (2,560 inputs a candidate, most of the scoring's time) in bfloat16
# where the CPU multiplies bfloat16 natively (AVX512-BF16, AMX): 4x faster than float32 (512
# windows 0.24 ms against 1.03 ms, AMD EPYC, 1 thread), the scoring of a strand ~35% cheaper.
# Scores move by 0.005 on average (at most 0.05; log-ratios of -34..3.4): validation gene F1 over
# three site fine-tune seeds 0.3899 against 0.3897 in float32 (docs/benchmarks.md, 2026-12-04).
# Elsewhere float32 (emulated bfloat16 would be slower), so the scores differ by machine that much.
READ_BF16 = _native_bf16()


def load_site_model(name_or_dir: str = BUNDLED_SITE_MODEL) -> SiteNet:
    return load_model(name_or_dir, SiteNet)


@contextmanager
def one_thread():
    """torch on one CPU thread for the classifier's work (scoring, per-genome fine-tuning).
    The model is small: on 2 busy cores two OpenMP threads mostly wait on each other (worm
    fine-tune 27 s on two threads, 3 s on one, load ~3.5), and torch's float sums depend on the
    thread count, so one thread also makes the scores and the fine-tuned weights the same on
    every machine."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(before)


# Trunk features kept for one genome's decoding (keep_trunk_features): the per-genome fine-tune
# trains the readouts only (settings.site_adapt_trunk False), so the scoring before it, its
# examples and the scoring after it convolve the same blocks with the same trunk; kept, the
# convolutions run once instead of three times (Arabidopsis 1%: 0.4-0.6 s of a 5.4 s command,
# 2026-12-05). Features take 32 bytes a base and strand in bfloat16 (64 in float32), so a budget
# bounds them: blocks past it are convolved again, as without the cache.
TRUNK_CACHE_BYTES = 256 << 20  # both strands of 4 Mb in bfloat16
_trunk_cache: dict | None = None  # (trunk digest, input digest) -> features; None: not keeping
_trunk_cache_bytes = 0
_trunk_budget = 0


@contextmanager
def keep_trunk_features(budget: int = TRUNK_CACHE_BYTES):
    """Within the block, trunk features are computed once per (trunk weights, block of bases)
    and read again from memory (at most `budget` bytes of them); released on leaving."""
    global _trunk_cache, _trunk_cache_bytes, _trunk_budget
    outer = _trunk_cache, _trunk_cache_bytes, _trunk_budget
    _trunk_cache, _trunk_cache_bytes, _trunk_budget = {}, 0, budget
    try:
        yield
    finally:
        _trunk_cache, _trunk_cache_bytes, _trunk_budget = outer


def drop_trunk_features() -> None:
    """Empties keep_trunk_features' cache and stores nothing more in it (until the block ends):
    for when no later pass reads the blocks it holds (up to TRUNK_CACHE_BYTES through the rest
    of the decoding otherwise)."""
    global _trunk_cache_bytes, _trunk_budget
    if _trunk_cache is not None and _trunk_cache:
        from genet5.memory import release_free_memory

        _trunk_cache.clear()
        release_free_memory()
    _trunk_cache_bytes = _trunk_budget = 0


def _trunk_digest(model: SiteNet) -> bytes:
    h = hashlib.blake2b(digest_size=16)
    for p in model.trunk.parameters():
        h.update(p.detach().numpy().tobytes())
    return h.digest()


def trunk_features(model: SiteNet, padded: np.ndarray, dtype: torch.dtype) -> torch.Tensor:
    """(channels, len(padded) - 2 margin) trunk features of a block of base codes, in `dtype`
    (bfloat16 where the readouts read bfloat16); from the cache inside keep_trunk_features."""
    global _trunk_cache_bytes
    cache = _trunk_cache
    key = None
    if cache is not None:
        key = (_trunk_digest(model), hashlib.blake2b(padded.tobytes(), digest_size=16).digest(), dtype)
        hit = cache.get(key)
        if hit is not None:
            return hit
    feats = model.features(torch.from_numpy(padded[None, :].astype(np.int64)))[0].to(dtype)
    if cache is not None:
        size = feats.numel() * feats.element_size()
        if _trunk_cache_bytes + size <= _trunk_budget:
            cache[key] = feats
            _trunk_cache_bytes += size
    return feats


def stop_codon_positions(codes: np.ndarray) -> np.ndarray:
    """Positions i of TAA, TAG and TGA (bases i, i+1, i+2) in base codes (A C G T = 0 1 2 3)."""
    a, b, c = codes[:-2], codes[1:-1], codes[2:]
    return np.flatnonzero((a == 3) & (((b == 0) & ((c == 0) | (c == 2))) | ((b == 2) & (c == 0))))


@torch.no_grad()
def oriented_site_llr(model: SiteNet, codes: np.ndarray) -> dict[str, np.ndarray]:
    """{"donor", "acceptor", "start"(, "stop"): (L,) float32} log-likelihood ratios on one oriented
    sequence of base codes (0 where the site's bases are absent): donor at i = GT/GC at i, i+1;
    acceptor at i = AG at i-2, i-1; start at i = ATG at i .. i+2. The sequence is read in
    blocks of _BLOCK bases (each with its windows' reach on both sides), so memory does not grow
    with the chromosome."""
    cfg = model.config
    n, half, margin = len(codes), cfg.half, cfg.margin
    reach = half + margin
    padded = np.concatenate([np.full(reach, 4, np.int8), codes.astype(np.int8), np.full(reach, 4, np.int8)])
    candidates = {
        "donor": np.flatnonzero((codes[:-1] == 2) & ((codes[1:] == 3) | (codes[1:] == 1))),
        "acceptor": np.flatnonzero((codes[:-1] == 0) & (codes[1:] == 2)) + 2,
        "start": np.flatnonzero((codes[:-2] == 0) & (codes[1:-1] == 3) & (codes[2:] == 2)),
    }
    candidates["acceptor"] = candidates["acceptor"][candidates["acceptor"] < n]
    if STOP in model.readout:  # a model with a stop readout (SiteConfig.stop_readout)
        candidates[STOP] = stop_codon_positions(codes)
    out = {t: np.zeros(n, dtype=np.float32) for t in candidates}
    readouts = _bf16_readouts(model) if READ_BF16 else None
    for b0 in range(0, n, _BLOCK):
        b1 = min(b0 + _BLOCK, n)
        # trunk features of bases b0 - half .. b1 + half - 1 (column k describes base b0 - half + k),
        # in bfloat16 where the readouts read it (gathered at half the bytes too)
        feats = trunk_features(model, padded[b0 : b1 + 2 * reach], torch.bfloat16 if READ_BF16 else torch.float32)
        # window of site i: columns i - b0 .. i - b0 + 2 half - 1; a strided view of every window
        # (no copy), gathered at the candidates in one step (6x faster than 2-D column indexing;
        # index_select: 6.5x faster again than indexing with [], the same windows: 512 of them
        # 0.72 -> 0.11 ms in bfloat16, 1.19 -> 0.17 ms in float32)
        windows = feats.unfold(1, 2 * half, 1).permute(1, 0, 2)  # (b1 - b0 + 1, channels, window)
        for site_type, cand in candidates.items():
            cand = cand[(cand >= b0) & (cand < b1)]
            for lo in range(0, len(cand), _CHUNK):
                c = cand[lo : lo + _CHUNK]
                win = windows.index_select(0, torch.from_numpy(c - b0))
                logit = _read_bf16(readouts[site_type], win) if READ_BF16 else model.read(site_type, win)
                out[site_type][c] = (logit - model.prior_logit(site_type)).numpy()
    return out


def _bf16_readouts(model: SiteNet) -> dict[str, tuple]:
    """Per site type, the readout's first layer in bfloat16 and its float32 last layer."""
    out = {}
    for site_type, layers in model.readout.items():
        _, first, _, last = layers  # Flatten, Linear, ReLU, Linear (models/sites.py)
        out[site_type] = (first.weight.bfloat16(), first.bias.bfloat16(), last)
    return out


def _read_bf16(readout: tuple, windows: torch.Tensor) -> torch.Tensor:
    """SiteNet.read with the first layer in bfloat16 (READ_BF16): (B, channels, window) -> (B,)."""
    weight, bias, last = readout
    hidden = torch.relu(nn.functional.linear(windows.flatten(1), weight, bias)).float()
    return last(hidden).squeeze(-1)


SITE_KEYS = ("don", "acc", "racc", "rdon", "start", "rstart")
STOP_KEYS = ("stop", "rstop")  # gene ends, from a model with a stop readout


def site_scores(model: SiteNet, seq: bytes, weight: float = 1.0, lo: int = 0, hi: int | None = None,
                threads: int = 1) -> dict[str, np.ndarray]:
    """The six HMM site arrays ("don", "acc", "racc", "rdon", "start", "rstart"; float32,
    forward positions lo .. hi - 1) of one sequence, each `weight` times the classifier's
    log-likelihood ratio. Only bases within the windows' reach of [lo, hi) are read, so a long
    sequence can be scored block by block with the same result as whole. `threads` 2 or more:
    the two strands are scored in two Python threads at once (torch releases the GIL in its
    kernels; each keeps torch's own thread setting, so the scores are the same)."""
    n = len(seq)
    hi = n if hi is None else hi
    reach = model.config.half + model.config.margin + 3
    a, b = max(0, lo - reach), min(n, hi + reach)
    whole = _site_scores(model, seq[a:b], threads)
    return {k: v[lo - a : hi - a] * np.float32(weight) for k, v in whole.items()}


def _site_scores(model: SiteNet, seq: bytes, threads: int = 1) -> dict[str, np.ndarray]:
    n = len(seq)
    strands = [base_codes(seq), base_codes(reverse_complement(seq))]
    if threads > 1:
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(2) as pool:
            plus, minus = pool.map(lambda codes: oriented_site_llr(model, codes), strands)
    else:
        plus, minus = (oriented_site_llr(model, codes) for codes in strands)
    out = {k: np.zeros(n, dtype=np.float32) for k in SITE_KEYS}
    out["don"][: n - 1] = plus["donor"][1:]  # exon's last base j = donor position - 1
    out["acc"][:] = plus["acceptor"]
    # minus strand, oriented index i <-> forward base n - 1 - i
    out["racc"][:] = minus["acceptor"][::-1]  # forward j = n - 1 - i (the exon's first base on minus)
    # minus donor at oriented i (the intron's first base) is forward base n - 1 - i; the gate sits
    # one base right of it, at the exon's first forward base t = n - i
    out["rdon"][1:] = minus["donor"][::-1][:-1]
    out["start"][:] = plus["start"]
    # a minus start at oriented i covers forward bases n-3-i .. n-1-i; its gate is the middle one
    out["rstart"][: n - 1] = minus["start"][::-1][1:]
    if STOP in plus:
        # the plus gene-end gate sits just past the stop codon (t = i + 3); a minus stop at
        # oriented i covers forward bases n-3-i .. n-1-i, gated at its first forward base
        out["stop"], out["rstop"] = np.zeros(n, dtype=np.float32), np.zeros(n, dtype=np.float32)
        out["stop"][3:] = plus[STOP][: n - 3]
        out["rstop"][: n - 2] = minus[STOP][::-1][2:]
    return out


def sparse_sites_of(model: SiteNet, seqs: list[bytes], weight: float, start_weight: float,
                    batch_bases: int = 1 << 20, **options) -> list["SparseSites"]:
    """SparseSites of each sequence (`options` as SparseSites takes them). Sequences shorter than
    a quarter of `batch_bases` are scored together, up to batch_bases at a time: joined by runs
    of N longer than the windows' and the start scan's reach (what a window sees past a sequence
    end is N either way), scored as one, and cut apart. Each scoring call costs ~6 ms beyond its
    bases (a few dozen small torch calls per strand): a draft's 13,000 contigs of 1-5 kb spent
    170 s there, for 40 Mb."""
    gap = b"N" * (2 * (model.config.half + model.config.margin) + options.get("scan_reach", 60) + 6)
    out: list[SparseSites | None] = [None] * len(seqs)
    batch: list[int] = []
    batched = 0  # bases in the batch

    def score_batch() -> None:
        nonlocal batched
        if len(batch) == 1:
            out[batch[0]] = SparseSites(model, seqs[batch[0]], weight, start_weight, **options)
        elif batch:
            starts, at = [], 0
            for i in batch:
                starts.append(at)
                at += len(seqs[i]) + len(gap)
            joined = SparseSites(model, gap.join(seqs[i] for i in batch), weight, start_weight, **options)
            for i, a in zip(batch, starts):
                out[i] = joined.cut(a, a + len(seqs[i]))
        batch.clear()
        batched = 0

    for i, seq in enumerate(seqs):
        if len(seq) * 4 >= batch_bases:
            out[i] = SparseSites(model, seq, weight, start_weight, **options)
            continue
        if batch and batched + len(seq) > batch_bases:
            score_batch()
        batch.append(i)
        batched += len(seq)
    score_batch()
    return out


class SparseSites:
    """One sequence's site arrays kept as (positions, values) of their non-zero entries (a
    candidate GT/GC, AG, ATG or stop every few bases: 0.46 entries a base over the eight arrays of
    a fly chromosome, a 4-byte position and value each, ~3.7 bytes per base instead of 32),
    computed once block by block and handed to the decoder as dense arrays one block at a time."""

    def __init__(self, model: SiteNet, seq: bytes, weight: float, start_weight: float, block: int = 1 << 21,
                 threads: int = 1, stop_weight: float = 1.0, scan_penalty: float = 0.0, scan_reach: int = 60):
        self.n = len(seq)
        pos_type = np.int32 if self.n < 2**31 else np.int64  # 4 bytes a candidate, not 8
        keys = SITE_KEYS + (STOP_KEYS if STOP in model.readout and stop_weight else ())
        parts: dict[str, list] = {k: [] for k in keys}
        for lo in range(0, self.n, block):
            with one_thread():
                dense = site_scores(model, seq, weight, lo, min(lo + block, self.n), threads)
            for k in ("start", "rstart"):
                dense[k] *= np.float32(start_weight)
            if scan_penalty:  # ATGs a scanning ribosome would have passed (scanning.py)
                from genet5.predict.eukaryote.scanning import scan_penalties

                hi = min(lo + block, self.n)
                a, b = max(0, lo - scan_reach - 3), min(self.n, hi + scan_reach + 3)
                for k, v in scan_penalties(seq[a:b], scan_reach, scan_penalty).items():
                    dense[k] += v[lo - a : hi - a]
            for k in STOP_KEYS if STOP_KEYS[0] in keys else ():
                dense[k] *= np.float32(stop_weight)
            for k in keys:
                v = dense[k]
                nz = np.flatnonzero(v)
                parts[k].append(((nz + lo).astype(pos_type), v[nz]))
        self.pos, self.val = {}, {}
        for k in keys:  # one key's blocks joined and released at a time: the parts are not held twice
            blocks = parts.pop(k)
            self.pos[k] = np.concatenate([p for p, _ in blocks]) if blocks else np.zeros(0, pos_type)
            self.val[k] = np.concatenate([x for _, x in blocks]) if blocks else np.zeros(0, np.float32)
            del blocks

    def cut(self, lo: int, hi: int) -> "SparseSites":
        """The arrays of bases lo .. hi - 1, as those of that piece of the sequence (the scores
        read with the whole sequence around it)."""
        out = SparseSites.__new__(SparseSites)
        out.n, out.pos, out.val = hi - lo, {}, {}
        for k in self.pos:
            i, j = np.searchsorted(self.pos[k], lo), np.searchsorted(self.pos[k], hi)
            out.pos[k], out.val[k] = self.pos[k][i:j] - lo, self.val[k][i:j]
        return out

    def dense(self, lo: int = 0, hi: int | None = None) -> dict[str, np.ndarray]:
        hi = self.n if hi is None else hi
        out = {}
        for k in self.pos:
            p, v = self.pos[k], self.val[k]
            i, j = np.searchsorted(p, lo), np.searchsorted(p, hi)
            arr = np.zeros(hi - lo, dtype=np.float32)
            arr[p[i:j] - lo] = v[i:j]
            out[k] = arr
        return out
