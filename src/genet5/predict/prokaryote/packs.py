"""A genome's strands regrouped for scoring into pieces of about PACK_BASES.

Every per-candidate score of the self-training rounds (coding chains, hexamer sums, upstream
composition, the start classifier, the atypical chains) is numpy over one strand's arrays. Two
sizes cost more than the arithmetic:

- a draft's short strands: on a strand of a few kb the cost is the calls (a Vibrio draft in
  1,000 contigs spent ~6 s of its ~10 s in per-strand overhead; two threads ran it slower than
  one, the GIL; Prodigal took 3.5 s). They are joined, each behind a run of N longer than any
  scorer reads around a candidate (SEPARATOR), into one pack;
- a whole genome's long strands: a 9 Mb strand's temporaries (its coding track alone 108 MB)
  are fresh memory every round (Bradyrhizobium took 10.7 s whole and 8.1 s cut into 18 pieces of
  0.5 Mb). They are scored in blocks: orfs.oriented_candidates orders a long strand's candidates
  by the block of their ORF's stop (BLOCK_BASES), and each block is scored on its window of the
  strand, SEPARATOR bases beyond its candidates on each side.

N (and the end of a window) reads as a base off the sequence in every scorer (no context, no
hexamer, code 4 in a window), and no scorer reads further than SEPARATOR from a candidate's own
bases, so each candidate scores as it does alone, up to float rounding in running sums. The
fits' counts (coding chain, hexamer table, start examples) are integers, the same per pack as
per strand; the background they are counted against is each strand's whole sequence once. The
dynamic program stays per record, the genes per strand.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Callable

import numpy as np

from genet5.predict.prokaryote.orfs import BLOCK_BASES, Strand
from genet5.predict.prokaryote.threads import thread_map

# Strands shorter than this are joined into packs; longer ones are scored alone, in blocks of
# BLOCK_BASES when longer than that
PACK_BELOW = 100_000
# Bases of N between joined strands and around a block's candidates: more than any scorer reads
# beyond a candidate's own bases (the start classifier's 30-base window, the upstream
# composition's 44 bases, Prodigal's motif region, the coding chains' contexts)
SEPARATOR = 64
# Bases of a pack of joined strands (it closes at the first strand that reaches this). Large
# enough that its calls cost little beside its arithmetic, small enough for its temporaries to
# stay small and for threads to share the packs evenly: in dev runs (2026-12-06, Intel Xeon, 2
# threads) packs of 0.5 Mb ran Bradyrhizobium in 1,000 contigs in 9.4 s / 707 MB, of 1 / 2 / 4 / 9
# Mb in 9.2-10.2 / 9.7 / 10.4 / 12.0 s and 742 / 777 / 890 / 1,127 MB
PACK_BASES = 500_000


@dataclass
class _Pack:
    # (strand index, first candidate, end candidate) of each piece it holds, in order: whole
    # strands when joined, one range of a strand's candidates when a block
    pieces: list[tuple[int, int, int]]
    cand: Strand  # the candidates it scores (the strand's own when it is one whole strand)
    bounds: np.ndarray  # piece j's candidates are cand's [bounds[j], bounds[j + 1])
    view: object | None = field(default=None)  # its _StrandData (views())
    filled: tuple = ()  # which of _OPTIONAL the view was made with


class StrandPacks:
    """The strands of a genome's records grouped for scoring (module docstring). `strands`:
    every _StrandData of every record, in record order."""

    def __init__(self, strands: list):
        self.strands = strands
        self.packs: list[_Pack] = []
        run: list[int] = []
        run_bases = 0
        for i, d in enumerate(strands):
            if d.cand.length < PACK_BELOW:
                run.append(i)
                run_bases += d.cand.length
                if run_bases >= PACK_BASES:
                    self.packs.append(self._join(run))
                    run, run_bases = [], 0
            elif d.cand.length > BLOCK_BASES:
                self.packs += self._blocks(i)
            else:
                self.packs.append(_whole(i, d.cand))
        if run:
            self.packs.append(self._join(run))

    def _join(self, members: list[int]) -> _Pack:
        if len(members) == 1:
            return _whole(members[0], self.strands[members[0]].cand)
        cands = [self.strands[i].cand for i in members]
        gap = b"N" * SEPARATOR
        seq = gap.join(c.seq for c in cands)
        origin = np.cumsum([0] + [c.length + SEPARATOR for c in cands[:-1]])
        # ORF numbers moved up by even steps: the start matrix's check splits ORFs by parity
        orf_base = np.cumsum([0] + [(int(c.orf.max()) + 2) // 2 * 2 if len(c.orf) else 0 for c in cands[:-1]])
        cat = np.concatenate
        packed = Strand("", "+", 0, len(seq), seq, cat([c.a + o for c, o in zip(cands, origin)]),
                        cat([c.e + o for c, o in zip(cands, origin)]), cat([c.orf + b for c, b in zip(cands, orf_base)]),
                        cat([c.edge for c in cands]), cat([c.open3 for c in cands]))
        return _Pack([(i, 0, len(c.a)) for i, c in zip(members, cands)], packed, np.cumsum([0] + [len(c.a) for c in cands]))

    def _blocks(self, i: int) -> list[_Pack]:
        """A long strand's blocks: its candidates come ordered by the block of their stop
        (orfs.oriented_candidates), so each block is one range of them."""
        c = self.strands[i].cand
        block = c.e // BLOCK_BASES
        if len(block) and np.any(np.diff(block) < 0):  # made elsewhere, in another order: scored whole
            return [_whole(i, c)]
        cuts = np.flatnonzero(np.diff(block)) + 1
        out = []
        for lo, hi in zip(np.r_[0, cuts], np.r_[cuts, len(block)]):
            lo, hi = int(lo), int(hi)
            if hi == lo:
                continue
            s0 = max(int(c.a[lo:hi].min()) - SEPARATOR, 0)
            s1 = min(int(c.e[lo:hi].max()) + 1 + SEPARATOR, c.length)
            window = Strand(c.seqid, c.strand, c.offset, s1 - s0, c.seq[s0:s1], c.a[lo:hi] - s0, c.e[lo:hi] - s0,
                            c.orf[lo:hi], c.edge[lo:hi], c.open3[lo:hi])
            out.append(_Pack([(i, lo, hi)], window, np.array([0, hi - lo])))
        return out or [_whole(i, c)]

    def map(self, fn: Callable, threads: int = 1) -> list:
        """fn(pack's _StrandData view) for every pack (fn returns per-candidate rows: an array,
        or a tuple of arrays and Nones), back per strand, in order."""
        views = self.views()
        return self._split(thread_map(fn, views, threads, bases=sum(v.cand.length for v in views)))

    def map_cand(self, fn: Callable[[Strand], np.ndarray], threads: int = 1) -> list:
        """fn(pack's candidates) for every pack (per-candidate rows: an array or a tuple of
        arrays), back per strand: for what is computed before the strands' other fields are
        final (the start features, the start classifier, the atypical chains)."""
        return self._split(thread_map(fn, [p.cand for p in self.packs], threads, bases=sum(p.cand.length for p in self.packs)))

    def _split(self, results: list) -> list:
        parts: list[list] = [[] for _ in self.strands]
        for pack, res in zip(self.packs, results):
            if len(pack.pieces) == 1:
                parts[pack.pieces[0][0]].append(res)
                continue
            for j, (i, _, _) in enumerate(pack.pieces):
                parts[i].append(_rows(res, pack.bounds[j], pack.bounds[j + 1]))
        return [p[0] if len(p) == 1 else _cat_rows(p) for p in parts]

    def chosen(self, chosen: list[np.ndarray]) -> list[np.ndarray]:
        """Per pack, the indices into its candidates of the strands' `chosen` ones (per strand,
        in order)."""
        out = []
        for pack in self.packs:
            got = []
            for j, (i, lo, hi) in enumerate(pack.pieces):
                idx = chosen[i]
                if lo > 0 or hi < len(self.strands[i].cand.a):
                    idx = idx[(idx >= lo) & (idx < hi)]
                got.append(idx - lo + pack.bounds[j])
            out.append(np.concatenate(got).astype(np.int64, copy=False))
        return out

    def genes(self, chosen: list[np.ndarray], keep: Callable[[Strand, np.ndarray], np.ndarray] | None = None) -> list:
        """(sequence, starts, ends) per pack of the candidates `chosen` (per strand, in order,
        indices into each strand's candidates; keep(cand, idx): the ones to count), for the fits
        that count the bases of genes: a pack's N counts nothing and each candidate is in one
        pack, so the counts are the strands' own, in a few calls instead of one per strand."""
        out = []
        for pack, idx in zip(self.packs, self.chosen(chosen)):
            if keep is not None:
                idx = idx[keep(pack.cand, idx)]
            out.append((pack.cand.seq, pack.cand.a[idx], pack.cand.e[idx]))
        return out

    def background(self) -> list[bytes]:
        """The sequences to count a genome's background on, every base once: joined packs, and
        each other strand whole (its blocks' windows overlap)."""
        out, seen = [], set()
        for pack in self.packs:
            if len(pack.pieces) > 1:
                out.append(pack.cand.seq)
            elif pack.pieces[0][0] not in seen:
                seen.add(pack.pieces[0][0])
                out.append(self.strands[pack.pieces[0][0]].cand.seq)
        return out

    def views(self) -> list:
        """Each pack as one _StrandData: a whole strand's own; a block's, its rows of the
        strand's fields (numpy views); joined strands', their fields joined. Made on the first
        call and kept while the strands' optional fields (start_net, atypical, sd_masks, net)
        stay as they were: the rounds' memo keys are the ids of these objects, so the
        self-training fills those fields before its rounds."""
        for pack in self.packs:
            members = [self.strands[i] for i, _, _ in pack.pieces]
            if pack.cand is members[0].cand:
                pack.view = members[0]
                continue
            filled = tuple(getattr(members[0], f) is not None for f in _OPTIONAL)
            if pack.view is None or pack.filled != filled:
                pack.view, pack.filled = _view(members, pack), filled
        return [p.view for p in self.packs]


_OPTIONAL = ("start_net", "atypical", "sd_masks", "net")
# a strand's per-candidate fields, held once: a joined pack's strands point at its rows (_share)
_SHARED = ("codon", "rbs", "mat", "length", "net", "start_net", "atypical")


def _whole(i: int, cand: Strand) -> _Pack:
    return _Pack([(i, 0, len(cand.a))], cand, np.array([0, len(cand.a)]))


def _rows(res, lo: int, hi: int):
    if isinstance(res, tuple):
        return tuple(None if x is None else x[lo:hi] for x in res)
    return res[lo:hi]


def _cat_rows(parts: list):
    """A strand's rows from its blocks, in order."""
    if isinstance(parts[0], tuple):
        return tuple(None if parts[0][k] is None else np.concatenate([p[k] for p in parts]) for k in range(len(parts[0])))
    return np.concatenate(parts)


def _view(members: list, pack: _Pack):
    """The _StrandData a pack is scored as."""
    if len(pack.pieces) == 1:  # a block: its rows of the strand's fields, without copies
        d, (_, lo, hi) = members[0], pack.pieces[0]
        cut = (lambda x: None if x is None else x[lo:hi])
        masks = None if d.sd_masks is None else (d.sd_masks[0][lo:hi], d.sd_masks[1][lo:hi])
        return replace(d, cand=pack.cand, net=cut(d.net), codon=cut(d.codon), rbs=cut(d.rbs), mat=cut(d.mat),
                       length=cut(d.length), features=None, start_net=cut(d.start_net), rescue=None,
                       atypical=cut(d.atypical), sd_masks=masks)
    view = _join_data(members, pack.cand)
    _share(members, view, pack.bounds)
    return view


def _share(members: list, view, bounds: np.ndarray) -> None:
    """Point each member's per-candidate fields at its rows of the pack's joined arrays (the
    same values): a draft's candidate features are then held once, not twice."""
    for j, d in enumerate(members):
        lo, hi = bounds[j], bounds[j + 1]
        for name in _SHARED:
            joined = getattr(view, name)
            if joined is not None:
                setattr(d, name, joined[lo:hi])
        if view.sd_masks is not None:
            d.sd_masks = (view.sd_masks[0][lo:hi], view.sd_masks[1][lo:hi])


def _join_data(members: list, cand: Strand):
    """The members' _StrandData as one, for the packed candidates `cand`."""

    def cat(name):
        parts = [getattr(d, name) for d in members]
        return None if any(p is None for p in parts) else np.concatenate(parts)

    masks = None
    if all(d.sd_masks is not None for d in members):
        masks = (np.concatenate([d.sd_masks[0] for d in members]), np.concatenate([d.sd_masks[1] for d in members]))
    return replace(members[0], cand=cand, net=cat("net"), codon=cat("codon"), rbs=cat("rbs"), mat=cat("mat"),
                   length=cat("length"), features=None, start_net=cat("start_net"), rescue=None,
                   atypical=cat("atypical"), sd_masks=masks)
