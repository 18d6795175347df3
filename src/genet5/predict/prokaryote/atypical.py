"""Atypical genes, as GeneMarkS-2 scores them: genes a genome took from others often have a
composition its own chain (fitted on its typical genes) does not fit, so each candidate is also
scored by a chain of other GC, one of the shipped GC-bin chains that meta mode uses (made from
training genomes by scripts/make_meta_models.py). decoder.add_atypical puts the scores on the
candidates; the coding term takes the better of the genome's own and this one less a penalty
(ProkaryoteSettings.atypical_penalty)."""

from __future__ import annotations

import numpy as np

from genet5.predict.prokaryote.coding import CodingModel, ContextCache
from genet5.predict.prokaryote.orfs import Strand, base_codes


def atypical_chains(code: int, genome_gc: float, offsets) -> tuple[list[CodingModel], np.ndarray]:
    """The shipped GC-bin chains of genetic code `code` nearest genome_gc + each offset (each
    once), and their GCs; none where the code has no bins."""
    from genet5.predict.prokaryote.meta import load_sets, sets_for_code

    bins = list({id(s.coding): s for s in sets_for_code(load_sets(), code) if s.name.startswith("gc")}.values())
    if not bins:
        return [], np.zeros(0)
    picked = list({id(b): b for b in (min(bins, key=lambda s: abs(s.gc - (genome_gc + o))) for o in offsets)}.values())
    return [b.coding for b in picked], np.array([b.gc for b in picked])


def atypical_coding(cand: Strand, chains: list[CodingModel], gcs: np.ndarray, cache: ContextCache | None = None) -> np.ndarray:
    """Each candidate's score under the chain whose GC (gcs) is nearest the candidate's own (its
    bases from start to stop)."""
    codes = base_codes(cand.seq)
    gc = np.concatenate([[0], np.cumsum((codes == 1) | (codes == 2))])
    own = (gc[cand.e + 1] - gc[cand.a]) / np.maximum(cand.e - cand.a + 1, 1)
    row = np.abs(own[:, None] - gcs[None, :]).argmin(axis=1)
    out = np.zeros(len(cand.a))
    for j, chain in enumerate(chains):  # one chain at a time: a 10 Mb genome's strand is 10 M values a chain
        sel = row == j
        if sel.any():
            out[sel] = chain.frame_sums(cand.seq, cand.a[sel], cand.e[sel], cache)
    return out
