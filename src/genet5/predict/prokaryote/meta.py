"""Meta mode: genomes too small to teach themselves (a plasmid, a virus, short contigs of a
metagenome) are decoded with statistics learned on whole training genomes, as Prodigal's
`-p meta` does: every shipped parameter set of the input's genetic code (a coding chain and a
start model: per GC bin of the training genomes' pooled genes, per large training genome, a few
extrapolated to low GC) decodes each sequence, and the set whose gene set scores highest wins
for that sequence.

The sets are made by scripts/make_meta_models.py from the `train` genomes of
shared/genomes/splits.tsv and shipped in bundled/prokaryote-meta as safetensors + JSON.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from genet5.predict.orf_decoder import OrfGene
from genet5.predict.prokaryote.coding import CodingModel, ContextCache
from genet5.predict.prokaryote.decoder import ProkaryoteSettings, _decode, _genes, _StrandData, ensure_start_net, score_records, weight_vector
from genet5.predict.prokaryote.starts import StartModel

BUNDLED = Path(__file__).resolve().parents[2] / "bundled" / "prokaryote-meta"


@dataclass
class ParameterSet:
    name: str  # the training genome it was learned on
    gc: float
    coding: CodingModel
    starts: StartModel
    code: int = 11  # genetic code of the genes it was fitted on


def save_sets(directory: Path, sets: list[ParameterSet], provenance: dict) -> None:
    """Sets that share a coding chain or a start model (the same object: a GC bin paired with a
    genome's start model) store it once and name the set it is kept with."""
    from safetensors.numpy import save_file

    directory.mkdir(parents=True, exist_ok=True)
    tensors, index, coding_at, starts_at = {}, [], {}, {}
    for i, s in enumerate(sets):
        entry = {"name": s.name, "gc": round(s.gc, 4), "order": s.coding.k, "code": s.code}
        if id(s.coding) in coding_at:
            entry["coding_from"] = coding_at[id(s.coding)]
        else:
            coding_at[id(s.coding)] = i
            tensors[f"{i}.coding"] = s.coding.ratio.astype(np.float32)
        if id(s.starts) in starts_at:
            entry["starts_from"] = starts_at[id(s.starts)]
        else:
            starts_at[id(s.starts)] = i
            tensors[f"{i}.codon"] = s.starts.codon.astype(np.float32)
            tensors[f"{i}.rbs"] = s.starts.rbs.astype(np.float32)
            tensors[f"{i}.matrix"] = s.starts.mat.astype(np.float32)
        index.append(entry)
    save_file(tensors, str(directory / "sets.safetensors"))
    (directory / "sets.json").write_text(json.dumps({"sets": index, **provenance}, indent=1) + "\n")


def load_sets(directory: Path = BUNDLED) -> list[ParameterSet]:
    from safetensors.numpy import load_file

    index = json.loads((directory / "sets.json").read_text())["sets"]
    t = load_file(str(directory / "sets.safetensors"))
    out: list[ParameterSet] = []
    for i, e in enumerate(index):
        c, st = e.get("coding_from", i), e.get("starts_from", i)
        coding = out[c].coding if c != i else CodingModel(e["order"], t[f"{i}.coding"])
        starts = out[st].starts if st != i else StartModel(t[f"{i}.codon"], t[f"{i}.rbs"], t[f"{i}.matrix"])
        out.append(ParameterSet(e["name"], e["gc"], coding, starts, e.get("code", 11)))
    return out


def find_genes_meta(records: list[list[_StrandData]], settings: ProkaryoteSettings,
                    sets: list[ParameterSet] | None = None, code: int | None = None,
                    gc_window: float | None = None) -> tuple[list[list[OrfGene]], list[str]]:
    """Genes of each record with the parameter set that scores it best, and that set's name.
    With `code`, only the sets fitted under that genetic code compete (all of them if none was)."""
    out, names = [], []
    for rec, best in zip(records, best_sets(records, settings, sets, code, gc_window)):
        if best is None:
            out.append([]); names.append("")
            continue
        name, chosen, scores = best
        out.append(_genes(rec, chosen, scores))
        names.append(name)
    return out, names


def best_sets(records: list[list[_StrandData]], settings: ProkaryoteSettings, sets: list[ParameterSet] | None = None,
              code: int | None = None, gc_window: float | None = None) -> list[tuple[str, list, list] | None]:
    """Per record: (name of the set whose gene set scores highest, the chosen candidates per
    strand, every candidate's score under it); None for a record without candidates."""
    sets = load_sets() if sets is None else sets
    if code is not None and any(s.code == code for s in sets):
        sets = [s for s in sets if s.code == code]
    ensure_start_net(records, settings, meta=True)
    out: list[tuple[str, list, list] | None] = []
    for rec in records:
        best = None
        wvec = weight_vector(settings, [rec], meta=True)
        cache = ContextCache()  # the sets share one chain order: the contexts are read once
        for s in competing(sets, record_gc(rec), gc_window):
            scores = score_records([rec], s.coding, s.starts, settings, wvec, cache)
            chosen = _decode([rec], scores, settings, junction_unit=settings.meta_junction_unit)
            total = sum(float(sc[idx].sum()) for sc, idx in zip(scores[0], chosen[0]))
            if best is None or total > best[0]:
                best = (total, s.name, chosen[0], scores[0])
        out.append(None if best is None else best[1:])
    return out


def record_gc(rec: list[_StrandData]) -> float:
    """G+C share of the A/C/G/T bases of one prepared record (its forward segments)."""
    seq = b"".join(d.cand.seq for d in rec if d.cand.strand == "+").upper()
    acgt = sum(seq.count(b) for b in (b"A", b"C", b"G", b"T"))
    return (seq.count(b"G") + seq.count(b"C")) / acgt if acgt else 0.5


def competing(sets: list[ParameterSet], gc: float, window: float | None) -> list[ParameterSet]:
    """The sets whose GC lies within `window` of the sequence's (the nearest one if none does);
    every set without a window."""
    if window is None or not sets:
        return sets
    near = [s for s in sets if abs(s.gc - gc) <= window]
    return near or [min(sets, key=lambda s: abs(s.gc - gc))]


# `--mode auto` decodes genomes smaller than this in meta mode. Pieces cut from the validation
# genomes (bench/prokaryote/meta_pieces.py, the bundled sets, start+stop F1 single / meta):
# 20 kb 0.857 / 0.903, 30 kb 0.874 / 0.898, 40 kb 0.883 / 0.889, 50 kb 0.897 / 0.889.
META_BELOW = 50_000
# `--mode single` refuses genomes smaller than this (too little to teach itself anything).
SINGLE_MIN = 20_000
