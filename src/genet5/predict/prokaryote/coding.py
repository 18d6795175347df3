"""Coding statistics learned from the genome itself: a three-periodic Markov chain of coding
sequence against a homogeneous chain of the whole genome (both strands).

The per-base log-likelihood ratio of base i read in codon position r,
    log P_coding(x_i | x_{i-k..i-1}, r) - log P_genome(x_i | x_{i-k..i-1}),
summed along a candidate is GeneMark's and Prodigal's coding evidence (Prodigal's dicodon
score is the same hexamer statistic taken once per codon). Because the background is the whole
genome (mostly coding in a prokaryote), it measures frame, not composition, so it transfers to
GC-rich and AT-rich genomes alike. Everything is vectorised: one pass of integer arithmetic per
base, no Python loop over positions.
"""

from __future__ import annotations

import numpy as np

from genet5.predict.prokaryote.orfs import base_codes, frame_sums
from genet5.predict.prokaryote.threads import thread_map


def order_for(coding_bases: int, per_parameter: int = 40) -> int:
    """Markov order the training set can support (at least `per_parameter` observations per
    parameter of the three-periodic chain)."""
    for k in (5, 4, 3, 2):
        if coding_bases >= per_parameter * 3 * 4 ** (k + 1):
            return k
    return 1


def contexts(codes: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """(context index of the k bases before i, True where i has k clean bases before it and is
    itself clean)."""
    n = len(codes)
    # the smallest integer type that holds a (context, base) index: these arrays are a genome's
    # length, two strands at a time on two threads (int64 temporaries were ~0.4 GB of a 9 Mb
    # genome's peak)
    dt = np.int16 if k <= 6 else (np.int32 if k <= 14 else np.int64)
    ctx = np.zeros(n, dtype=dt)
    bad = codes == 4
    ok = ~bad
    ok[: min(k, n)] = False
    c = np.where(bad, 0, codes).astype(dt)
    for j in range(1, k + 1):
        if j < n:
            ctx[j:] += c[:-j] * dt(4 ** (j - 1))
            ok[j:] &= ~bad[:-j]
    return ctx, ok


class ContextCache:
    """Memo of (codes, contexts, ok) per (oriented sequence, order): the self-training rounds
    read the same sequences with the same order every round, and computing the contexts is
    most of a round's arithmetic. Keyed by the sequence object itself (bytes cache their hash)."""

    def __init__(self):
        self._memo: dict = {}

    def __call__(self, s: bytes, k: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        key = (s, k)
        hit = self._memo.get(key)
        if hit is None:
            codes = base_codes(s)
            ctx, ok = contexts(codes, k)
            # kept for every round: int16 while (context, base) indices fit it (order <= 6: half
            # the memory of int32, 73 MB less for a 9 Mb genome's strands)
            hit = self._memo[key] = (codes, ctx.astype(np.int16 if k <= 6 else np.int32, copy=False), ok)
        return hit

    def background_counts(self, s: bytes, k: int) -> np.ndarray:
        """(4^k * 4,) counts of (context, base) over `s`: the background of CodingModel.fit,
        the same every round while the order stays."""
        key = ("counts", s, k)
        hit = self._memo.get(key)
        if hit is None:
            hit = self._memo[key] = _context_counts(self(s, k), k)
        return hit

    def fill(self, seqs: list[bytes], k: int, threads: int) -> None:
        """Compute the missing entries of order k for `seqs` on `threads` threads."""
        todo = [s for s in seqs if (s, k) not in self._memo]
        thread_map(lambda s: self(s, k), todo, threads, bases=sum(map(len, todo)))


def _context_counts(read: tuple[np.ndarray, np.ndarray, np.ndarray], k: int) -> np.ndarray:
    codes, ctx, ok = read
    return np.bincount(ctx[ok] * 4 + codes[ok], minlength=4 ** k * 4)


def _uncached(s: bytes, k: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    codes = base_codes(s)
    return (codes,) + contexts(codes, k)


class CodingModel:
    """log-ratio tables: coding (3, 4^k, 4) minus background (4^k, 4)."""

    def __init__(self, k: int, ratio: np.ndarray):
        self.k, self.ratio = k, ratio

    @classmethod
    def fit(cls, genes: list[tuple[bytes, np.ndarray, np.ndarray]], background: list[bytes],
            k: int | None = None, pseudo: float = 0.5, cache: ContextCache | None = None,
            per_parameter: int = 40, prior: np.ndarray | None = None, prior_weight: float = 0.0) -> "CodingModel":
        """genes: per oriented sequence, (sequence, first bases, last bases) of its training CDS
        (stop codons excluded by the caller or not: three bases change nothing);
        background: oriented sequences of the genome (pass both strands); cache: a ContextCache
        shared between calls on the same sequences; per_parameter: without k, the order is the
        highest with this many coding bases per parameter (order_for); prior: (3, 4^k, 4)
        P(base | codon position, context) of other genomes, mixed in as prior_weight
        pseudo-observations per context (a Dirichlet prior: contexts the genome has seen
        often follow the genome, rare ones the prior)."""
        read = cache or _uncached
        n_cod = int(sum(int((e - a + 1).sum()) for _, a, e in genes))
        k = order_for(n_cod, per_parameter) if k is None else k
        m = 4 ** k
        cod = np.zeros((3, m, 4))
        bg = np.zeros((m, 4))
        for s in background:
            counts = cache.background_counts(s, k) if cache is not None else _context_counts(read(s, k), k)
            bg += counts.reshape(m, 4)
        from genet5.predict.prokaryote.dp_kernel import coding_kernels

        compiled = coding_kernels()  # where numba is loaded (sums_compiled.py): the same counts
        kernel = compiled[1] if compiled else None
        for s, a, e in genes:
            if len(a) == 0:
                continue
            codes, ctx, ok = read(s, k)
            if kernel is not None:
                counts = np.zeros(3 * m * 4, dtype=np.int64)
                kernel(codes, ctx, ok, np.ascontiguousarray(a, dtype=np.int64), np.ascontiguousarray(e, dtype=np.int64), m, counts)
                cod += counts.reshape(3, m, 4)
                continue
            phase = np.full(len(codes), -1, dtype=np.int64)
            idx = _gene_positions(a, e)
            phase[idx[0]] = idx[1]
            sel = ok & (phase >= 0)
            flat = phase[sel] * m * 4 + ctx[sel] * 4 + codes[sel]
            cod += np.bincount(flat, minlength=3 * m * 4).reshape(3, m, 4)
        cod += pseudo
        if prior is not None and prior_weight > 0:
            cod += prior_weight * prior
        bg += pseudo
        cod_p = np.log(cod / cod.sum(axis=2, keepdims=True))
        bg_p = np.log(bg / bg.sum(axis=1, keepdims=True))
        return cls(k, (cod_p - bg_p[None]).astype(np.float32))

    def track(self, s: bytes, cache: ContextCache | None = None) -> np.ndarray:
        """(L, 3) float32: the log-ratio of each base read in codon position 0, 1, 2."""
        codes, ctx, ok = (cache or _uncached)(s, self.k)
        rows = self._rows()
        # one gather of whole rows (the three codon positions side by side) instead of three
        # scattered ones: a third of the time of a self-training round's scoring on 2 Mb
        at = ctx.astype(np.intp)  # built in place, in the index type take uses: one temporary
        at *= 4
        at += codes
        at[~ok] = len(rows) - 1  # the zero row: bases without a clean context
        return np.take(rows, at, axis=0)  # take: half the time of rows[at] here

    def frame_sums(self, s: bytes, a: np.ndarray, e: np.ndarray, cache: ContextCache | None = None) -> np.ndarray:
        """orfs.frame_sums(self.track(s, cache), a, e): each candidate's summed log-ratio. Where
        numba is loaded (a genome large enough for the compiled DP) one compiled pass per frame,
        the same numbers without the (L, 3) track (sums_compiled.py)."""
        from genet5.predict.prokaryote.dp_kernel import coding_kernels

        compiled = coding_kernels()
        if compiled is None:
            return frame_sums(self.track(s, cache), a, e)
        codes, ctx, ok = (cache or _uncached)(s, self.k)
        a64, e64 = np.ascontiguousarray(a, dtype=np.int64), np.ascontiguousarray(e, dtype=np.int64)
        out = np.zeros(len(a64))
        compiled[0](codes, ctx, ok, self._rows(), a64, e64, out)
        ragged = (e64 - a64 + 1) % 3 != 0
        if ragged.any():
            out[ragged] = frame_sums(self.track(s, cache), a64[ragged], e64[ragged])
        return out

    def _rows(self) -> np.ndarray:
        """(4^k * 4 + 1, 3) float32: ratio's (context, base) rows, the last one zeros."""
        rows = getattr(self, "_rows_memo", None)
        if rows is None:
            m4 = self.ratio.shape[1] * 4
            rows = np.zeros((m4 + 1, 3), dtype=np.float32)
            rows[:m4] = self.ratio.reshape(3, m4).T
            self._rows_memo = rows
        return rows


class ChainStack:
    """Several coding chains of one order, stacked so one gather reads a sequence under all of
    them (meta mode scores every shipped parameter set's chain on each contig: one numpy call
    per chain cost more in call overhead than in work on contigs of a few kb)."""

    def __init__(self, models: list[CodingModel]):
        if len({m.k for m in models}) != 1:
            raise ValueError("ChainStack needs chains of one order")
        self.k, self.models = models[0].k, models
        # (chains, 3 * 4^k * 4 + 1): the last column, 0, for bases without a full context
        self.flat = np.stack([np.append(m.ratio.reshape(-1), np.float32(0.0)) for m in models])

    def frame_sums(self, s: bytes, a: np.ndarray, e: np.ndarray, cache: ContextCache | None = None) -> np.ndarray:
        """(chains, candidates): orfs.frame_sums(chain.track(s), a, e) of each chain, the same
        numbers, with one gather per codon position and frame instead of a track per chain
        (whole-codon candidates through codon totals, as orfs.frame_sums; other spans base by
        base)."""
        codes, ctx, ok = (cache or _uncached)(s, self.k)
        n, m4 = len(codes), 4 ** self.k * 4
        flat = self.flat
        zero = flat.shape[1] - 1  # the column of bases without a full context
        at = np.where(ok, ctx.astype(np.int64) * 4 + np.where(ok, codes, 0), -1)
        out = np.zeros((len(flat), len(a)))
        whole = (e - a + 1) % 3 == 0
        for g in range(3):
            sel = whole & ((a % 3) == g)
            if not sel.any():
                continue
            m = (n - g) // 3
            c = np.zeros((len(flat), m + 1))
            v = c[:, 1:]
            for r in range(3):  # base g + 3k + r is read in codon position r
                col = at[g + r : g + 3 * m : 3]
                v += np.take(flat, np.where(col >= 0, col + r * m4, zero), axis=1)
            np.cumsum(v, axis=1, out=v)
            out[:, sel] = c[:, (e[sel] - g) // 3 + 1] - c[:, (a[sel] - g) // 3]
        if not whole.all():
            out[:, ~whole] = self._base_frame_sums(at, a[~whole], e[~whole])
        return out

    def _base_frame_sums(self, at: np.ndarray, a: np.ndarray, e: np.ndarray) -> np.ndarray:
        n, m4, flat = len(at), 4 ** self.k * 4, self.flat
        pos = np.arange(n)
        out = np.zeros((len(flat), len(a)))
        c = np.zeros((len(flat), n + 1))
        for g in range(3):
            sel = (a % 3) == g
            if not sel.any():
                continue
            # base i of a candidate aligned at g is read in codon position (i - g) mod 3
            idx = np.where(at >= 0, at + ((pos - g) % 3) * m4, flat.shape[1] - 1)
            np.cumsum(np.take(flat, idx, axis=1), axis=1, dtype=np.float64, out=c[:, 1:])
            out[:, sel] = c[:, e[sel] + 1] - c[:, a[sel]]
        return out


def _gene_positions(a: np.ndarray, e: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(positions, codon position) of every base of the CDS [a, e] (vectorised)."""
    lengths = (e - a + 1).astype(np.int64)
    total = int(lengths.sum())
    starts = np.repeat(a, lengths)
    offs = np.arange(total) - np.repeat(np.cumsum(lengths) - lengths, lengths)
    return starts + offs, offs % 3
