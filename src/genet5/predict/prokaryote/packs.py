"""A draft's many short strands scored as a few long ones.

Every per-candidate score of the self-training rounds (coding chains, hexamer sums, upstream
composition, the start classifier, the atypical chains) is numpy over one strand's arrays, and
on a strand of a few kb the cost is the calls, not the arithmetic: a Vibrio draft in 1,000
contigs spent ~6 s of its ~10 s in per-strand overhead, two threads ran it slower than one (the
GIL), and Prodigal took 3.5 s. So short strands are joined, each behind a run of N longer than
any scorer reads around a base (SEPARATOR), into packs of about PACK_BASES;
a pack is scored as one strand and its rows are handed back to the strands it holds. N reads
as a base outside the sequence in every scorer (no context, no hexamer, code 4 in a window), so
a candidate's scores are those it gets alone, up to float rounding in the running sums.

The scores and the fits' counts (coding chain, hexamer table, start examples: integer counts, the
same per pack as per strand) run per pack; the dynamic program stays per record and the genes
per strand.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Callable

import numpy as np

from genet5.predict.prokaryote.orfs import Strand

# Strands shorter than this are packed; longer ones are scored alone as before (a whole
# genome's strands: nothing changes for them)
PACK_BELOW = 100_000
# Bases of N between packed strands: more than any scorer reads beyond a candidate's own
# bases (the start classifier's 30-base window, the upstream composition's 44 bases, Prodigal's
# motif region, the coding chains' contexts)
SEPARATOR = 64
# Bases of a pack (it closes at the first strand that reaches this). Large enough that a pack's
# calls cost little beside its arithmetic, small enough for its temporaries to stay in cache
# and for threads to share the packs evenly: in dev runs (2026-12-06, Intel Xeon, 2 threads) packs
# of 0.5 Mb ran Bradyrhizobium in 1,000 contigs in 9.4 s / 707 MB, of 1 / 2 / 4 / 9 Mb in 9.2-10.2 /
# 9.7 / 10.4 / 12.0 s and 742 / 777 / 890 / 1,127 MB; Vibrio in 1,000 contigs 4.4 s against 4.6-5.1 s
PACK_BASES = 500_000


@dataclass
class _Pack:
    members: list[int]  # indices of the strands it holds, in order
    cand: Strand  # the joined candidates (the members' own when it holds one strand)
    bounds: np.ndarray  # the members' candidate ranges in cand: member i is [bounds[i], bounds[i + 1])
    view: object | None = field(default=None)  # the members' _StrandData joined (views())
    filled: tuple = ()  # which of _OPTIONAL the view was joined with


class StrandPacks:
    """The strands of a genome's records grouped for scoring (module docstring). `strands`:
    every _StrandData of every record, in record order."""

    def __init__(self, strands: list):
        self.strands = strands
        self.packs: list[_Pack] = []
        run: list[int] = []
        run_bases = 0
        for i, d in enumerate(strands):
            if d.cand.length >= PACK_BELOW:
                self.packs.append(_single(i, d.cand))
                continue
            run.append(i)
            run_bases += d.cand.length
            if run_bases >= PACK_BASES:
                self.packs.append(self._join(run))
                run, run_bases = [], 0
        if run:
            self.packs.append(self._join(run))

    def _join(self, members: list[int]) -> _Pack:
        if len(members) == 1:
            return _single(members[0], self.strands[members[0]].cand)
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
        return _Pack(members, packed, np.cumsum([0] + [len(c.a) for c in cands]))

    def map(self, fn: Callable, threads: int = 1) -> list:
        """fn(pack's _StrandData view) for every pack (fn returns per-candidate rows: an array,
        or a tuple of arrays and Nones), split back: one result per strand, in order."""
        from genet5.predict.prokaryote.threads import thread_map

        views = self.views()
        results = thread_map(fn, views, threads, bases=sum(v.cand.length for v in views))
        out: list = [None] * len(self.strands)
        for pack, res in zip(self.packs, results):
            for j, i in enumerate(pack.members):
                out[i] = _rows(res, pack.bounds[j], pack.bounds[j + 1]) if len(pack.members) > 1 else res
        return out

    def map_cand(self, fn: Callable[[Strand], np.ndarray], threads: int = 1) -> list:
        """fn(pack's candidates) for every pack (per-candidate rows: an array or a tuple of
        arrays), split back per strand: for what is computed before the strands' other fields
        are final (the start features, the start classifier, the atypical chains)."""
        from genet5.predict.prokaryote.threads import thread_map

        results = thread_map(fn, [p.cand for p in self.packs], threads, bases=sum(p.cand.length for p in self.packs))
        out: list = [None] * len(self.strands)
        for pack, res in zip(self.packs, results):
            for j, i in enumerate(pack.members):
                out[i] = _rows(res, pack.bounds[j], pack.bounds[j + 1])
        return out

    def genes(self, chosen: list[np.ndarray], keep: Callable[[Strand, np.ndarray], np.ndarray] | None = None) -> list:
        """(sequence, starts, ends) per pack of the candidates `chosen` (per strand, in order,
        indices into each strand's candidates; keep(cand, idx): the ones to count), for the fits
        that count bases of genes and background: a pack's N between its strands counts
        nothing, so the counts are the strands' own, in a few calls instead of one per strand."""
        out = []
        for pack, idx in zip(self.packs, self.chosen(chosen)):
            if keep is not None:
                idx = idx[keep(pack.cand, idx)]
            out.append((pack.cand.seq, pack.cand.a[idx], pack.cand.e[idx]))
        return out

    def chosen(self, chosen: list[np.ndarray]) -> list[np.ndarray]:
        """Per pack, the indices into its candidates of the strands' `chosen` ones (per strand,
        in order)."""
        return [np.concatenate([chosen[i] + pack.bounds[j] for j, i in enumerate(pack.members)]).astype(np.int64, copy=False)
                for pack in self.packs]

    def views(self) -> list:
        """Each pack as one _StrandData: its members' per-candidate fields joined. Built on the
        first call and kept while the members' optional fields (start_net, atypical, sd_masks,
        net) stay as they were: the rounds' memo keys are the ids of these objects, so the
        self-training fills those fields before its rounds."""
        for pack in self.packs:
            members = [self.strands[i] for i in pack.members]
            if len(members) == 1:
                pack.view = members[0]
                continue
            filled = tuple(getattr(members[0], f) is not None for f in _OPTIONAL)
            if pack.view is None or pack.filled != filled:
                pack.view, pack.filled = _join_data(members, pack.cand), filled
                _share(members, pack.view, pack.bounds)
        return [p.view for p in self.packs]


_OPTIONAL = ("start_net", "atypical", "sd_masks", "net")


def _single(i: int, cand: Strand) -> _Pack:
    return _Pack([i], cand, np.array([0, len(cand.a)]))


def _rows(res, lo: int, hi: int):
    if isinstance(res, tuple):
        return tuple(None if x is None else x[lo:hi] for x in res)
    return res[lo:hi]


_SHARED = ("codon", "rbs", "mat", "length", "net", "start_net", "atypical")


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
