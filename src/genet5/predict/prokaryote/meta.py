"""Meta mode: genomes too small to teach themselves (a plasmid, a virus, short contigs of a
metagenome) are decoded with statistics learned on whole training genomes, as Prodigal's
`-p meta` does: every shipped parameter set of the input's genetic code (a coding chain, a
start model and a Prodigal-method dicodon score: per GC bin of the training genomes' pooled
genes, per large training genome, a few extrapolated to low GC) decodes each sequence, and the
set whose gene set scores highest wins for that sequence.

The sets are made by scripts/make_meta_models.py from the `train` genomes of
shared/genomes/splits.tsv and shipped in bundled/prokaryote-meta as safetensors + JSON.
"""

from __future__ import annotations

import functools
import json
import re
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from genet5.genome.codes import genetic_code
from genet5.predict.orf_decoder import OrfGene
from genet5.predict.processes import in_processes
from genet5.predict.prokaryote.coding import ChainStack, CodingModel, ContextCache
from genet5.predict.prokaryote.decoder import (FEATURES, ProkaryoteSettings, RoundModels, _bases, _decode, _genes, _StrandData,
                                               chain_key, dicodon_weights, score_records, weight_vector)
from genet5.predict.prokaryote.dicodon import DicodonModel, HexamerCache, best_start_per_orf_rows, orf_groups
from genet5.predict.prokaryote.dp import COMPILED_FROM
from genet5.predict.prokaryote.fits import ensure_sd_masks
from genet5.predict.prokaryote.orfs import gc_share
from genet5.predict.prokaryote.spacing import SpacingModel
from genet5.predict.prokaryote.starts import StartModel

BUNDLED = Path(__file__).resolve().parents[2] / "bundled" / "prokaryote-meta"


@dataclass
class ParameterSet:
    name: str  # the training genome it was learned on
    gc: float
    coding: CodingModel
    starts: StartModel
    code: int = 11  # genetic code of the genes it was fitted on
    dicodon: DicodonModel | None = None  # the Prodigal-method score of those genes (dicodon.py)
    # a training file's (one genome's single mode, its last round: decoder.RoundModels) only
    matrix_factor: float = 1.0
    spacing: SpacingModel | None = None
    bases: int | None = None

    def round_models(self) -> RoundModels:
        """The models to decode with as single mode's last round does (decoder.decode_trained)."""
        return RoundModels(self.coding, self.starts, self.dicodon, self.matrix_factor, self.spacing, self.bases)


def save_sets(directory: Path, sets: list[ParameterSet], provenance: dict) -> None:
    """Sets that share a coding chain, a start model or a part of their dicodon score (its
    hexamer table; its start weights and upstream composition) store it once and name the set
    it is kept with (a GC bin paired with a genome's starts shares both ways)."""
    from safetensors.numpy import save_file

    directory.mkdir(parents=True, exist_ok=True)
    tensors, index = _pack_sets(sets)
    save_file(tensors, str(directory / "sets.safetensors"))
    (directory / "sets.json").write_text(json.dumps({"sets": index, **provenance}, indent=1) + "\n")


def _pack_sets(sets: list[ParameterSet], dtype=np.float32) -> tuple[dict, list]:
    """(tensors, index entries) of save_sets' layout, the tables as `dtype`."""
    tensors, index, coding_at, starts_at, hexamers_at, upstream_at = {}, [], {}, {}, {}, {}
    for i, s in enumerate(sets):
        entry = {"name": s.name, "gc": round(s.gc, 4), "order": s.coding.k, "code": s.code}
        if id(s.coding) in coding_at:
            entry["coding_from"] = coding_at[id(s.coding)]
        else:
            coding_at[id(s.coding)] = i
            tensors[f"{i}.coding"] = s.coding.ratio.astype(dtype)
        if id(s.starts) in starts_at:
            entry["starts_from"] = starts_at[id(s.starts)]
        else:
            starts_at[id(s.starts)] = i
            tensors[f"{i}.codon"] = s.starts.codon.astype(dtype)
            tensors[f"{i}.rbs"] = s.starts.rbs.astype(dtype)
            tensors[f"{i}.matrix"] = s.starts.mat.astype(dtype)
        if s.dicodon is not None:  # its hexamer table and its start part, each stored once
            dc = s.dicodon
            if id(dc.coding) in hexamers_at:
                entry["hexamers_from"] = hexamers_at[id(dc.coding)]
            else:
                hexamers_at[id(dc.coding)] = i
                entry["hexamers"] = {"start_weight": dc.start_weight, "codons": dc.codons}
                tensors[f"{i}.hexamers"] = dc.coding.astype(dtype)
            if id(dc.upstream) in upstream_at:
                entry["dicodon_starts_from"] = upstream_at[id(dc.upstream)]
            else:
                upstream_at[id(dc.upstream)] = i
                entry["dicodon_starts"] = {"start_share": dc.start_share}
                tensors[f"{i}.upstream"] = dc.upstream.astype(dtype)
                if dc.type_wt is not None:
                    tensors[f"{i}.start_codons"] = dc.type_wt.astype(dtype)
                    tensors[f"{i}.sd_bins"] = dc.rbs_wt.astype(dtype)
        index.append(entry)
    return tensors, index


def load_sets(directory: Path = BUNDLED) -> list[ParameterSet]:
    from safetensors.numpy import load_file

    index = json.loads((directory / "sets.json").read_text())["sets"]
    return _unpack_sets(index, load_file(str(directory / "sets.safetensors")))


# A training file (`genet5 predict --training FILE`, Prodigal's -t): the parameter set one
# genome taught itself in single mode, in one safetensors file whose metadata holds its index
TRAINING_KIND = "genet5-prokaryote-training"


def save_training(path: Path, pset: ParameterSet, provenance: dict) -> None:
    from safetensors.numpy import save_file

    tensors, index = _pack_sets([pset], np.float64)  # as trained: the same genome decodes to the same genes
    # what single mode's last round decodes with beside the set's models (decoder.RoundModels)
    index[0]["single"] = {"matrix_factor": pset.matrix_factor, "bases": pset.bases}
    if pset.spacing is not None:
        sp = pset.spacing
        tensors["0.spacing_log_f"], tensors["0.spacing_tail"] = sp.log_f, sp.tail
        index[0]["single"]["spacing"] = {"reach": sp.reach, "slope": sp.slope, "pairs": sp.pairs, "mean": sp.mean}
    save_file(tensors, str(path), metadata={"kind": TRAINING_KIND, "sets": json.dumps(index),
                                            "provenance": json.dumps(provenance)})
    import os

    mask = os.umask(0)  # safetensors writes 0600; a user's file takes the umask as others do
    os.umask(mask)
    os.chmod(path, 0o666 & ~mask)


def load_training(path: Path) -> ParameterSet:
    """The parameter set of a training file; GenomeFormatError for anything else."""
    from safetensors import SafetensorError, safe_open

    from genet5.genome.models import GenomeFormatError

    try:
        with safe_open(str(path), "numpy") as f:
            meta = f.metadata() or {}
            tensors = {k: f.get_tensor(k) for k in f.keys()}
    except (SafetensorError, OSError, ValueError) as err:
        raise GenomeFormatError(path, None, f"not a genet5 training file ({err})") from None
    if meta.get("kind") != TRAINING_KIND:
        raise GenomeFormatError(path, None, "not a genet5 training file (made by `genet5 predict GENOME --training FILE`)")
    index = json.loads(meta["sets"])
    pset = _unpack_sets(index, tensors)[0]
    single = index[0].get("single", {})  # absent from files of before 2026-12-06: the defaults
    spacing = single.get("spacing")
    if spacing is not None:
        spacing = SpacingModel(tensors["0.spacing_log_f"].astype(np.float64), spacing["reach"],
                               tensors["0.spacing_tail"].astype(np.float64), spacing["slope"], spacing["pairs"], spacing["mean"])
    return replace(pset, matrix_factor=single.get("matrix_factor", 1.0), spacing=spacing, bases=single.get("bases"))


def _unpack_sets(index: list, t: dict) -> list[ParameterSet]:
    out: list[ParameterSet] = []
    for i, e in enumerate(index):
        c, st = e.get("coding_from", i), e.get("starts_from", i)
        coding = out[c].coding if c != i else CodingModel(e["order"], t[f"{i}.coding"])
        starts = out[st].starts if st != i else StartModel(t[f"{i}.codon"], t[f"{i}.rbs"], t[f"{i}.matrix"])
        out.append(ParameterSet(e["name"], e["gc"], coding, starts, e.get("code", 11), _load_dicodon(e, i, t, out)))
    return out


def _load_dicodon(e: dict, i: int, t: dict, out: list[ParameterSet]) -> DicodonModel | None:
    """Set i's dicodon score from its hexamer part and its start part (save_sets), each read
    once: a set whose two parts come from one earlier set shares that set's model."""
    if "hexamers" not in e and "hexamers_from" not in e:
        return None
    h, u = e.get("hexamers_from", i), e.get("dicodon_starts_from", i)
    if h == u != i:
        return out[h].dicodon
    if h != i:
        coding, info = out[h].dicodon.coding, {"start_weight": out[h].dicodon.start_weight, "codons": out[h].dicodon.codons}
    else:
        coding, info = t[f"{i}.hexamers"].astype(np.float64), e["hexamers"]
    if u != i:
        src = out[u].dicodon
        upstream, type_wt, rbs_wt, share = src.upstream, src.type_wt, src.rbs_wt, src.start_share
    else:
        upstream, share = t[f"{i}.upstream"].astype(np.float64), e["dicodon_starts"]["start_share"]
        own = f"{i}.start_codons" in t
        type_wt = t[f"{i}.start_codons"].astype(np.float64) if own else None
        rbs_wt = t[f"{i}.sd_bins"].astype(np.float64) if own else None
    model = DicodonModel(coding, upstream, info["start_weight"], info["codons"])
    model.type_wt, model.rbs_wt, model.start_share = type_wt, rbs_wt, share
    return model


# Meta mode splits its records over `settings.threads` forked processes when they hold at least
# this many bases (forking and sending the genes back: ~0.05 s a process). Each record is decoded
# alone, so the genes do not depend on the split.
MIN_PROCESS_BASES = 1_000_000


def find_genes_meta(records: list[list[_StrandData]], settings: ProkaryoteSettings,
                    sets: list[ParameterSet] | None = None, code: int | None = None,
                    gc_window: float | None = None) -> tuple[list[list[OrfGene]], list[str]]:
    """Genes of each record with the parameter set that scores it best, and that set's name.
    With `code`, only the sets fitted under that genetic code compete (sets_for_code). Many
    records (a metagenome) are split over settings.threads processes (MIN_PROCESS_BASES)."""
    groups = _process_groups(records, settings.threads)
    if len(groups) > 1:
        alone = replace(settings, threads=1)
        sets = load_sets() if sets is None else sets  # read once, before the fork
        parts = in_processes(lambda g: _find_genes_meta([records[i] for i in g], alone, sets, code, gc_window), groups)
        return [x for p in parts for x in p[0]], [x for p in parts for x in p[1]]
    return _find_genes_meta(records, settings, sets, code, gc_window)


# Without -g, meta mode lets the table-4 sets compete with the table-11 ones sequence by
# sequence, as Prodigal -p meta does with its Mycoplasma sets: a Mycoplasma contig decoded under
# table 11 is cut at every TGA (gene F1 0.08-0.15 on 5-50 kb pieces of M. alvi and M.
# gallisepticum, 0.82-0.91 under table 4). The best-scoring gene set wins, and where that is a
# table-4 set's, it says table 4 only if its genes read through at least MIN_READTHROUGHS TGA
# codons in frame, at least MIN_READTHROUGH_RATE per coding codon (tryptophan is ~1% of a
# protein's residues and TGA most of a Mycoplasma's tryptophan codons: 1.4-12 per 1,000 codons
# on the 5-20 kb pieces of M. alvi and M. gallisepticum that table 4 wins; 0-0.94 on the AT-rich
# Erwinia phages' pieces where a table-4 set outscores the table-11 ones; one TGA may also be a
# selenocysteine). Otherwise the table-11 sets' genes stand, also where a table-4 set's genes
# read no TGA at all (valid table-11 genes, but taking them cost 2 of 17 genes on the Erwinia
# phage contigs of bench/prokaryote/command_speed.py's mock metagenome). Only sequences of at
# most TABLE4_MAX_GC are tried (the table-4 bacteria known span G+C 0.24-0.40, Mycoplasma
# pneumoniae's the highest, and a contig scatters a few points around its genome).
# docs/benchmarks.md, "Meta mode and table 4".
MIN_READTHROUGHS = 2
MIN_READTHROUGH_RATE = 1.2e-3
TABLE4_MAX_GC = 0.45
# the table-4 reading decodes only the sets its screen ranks best (of 7): every piece above reads
# the same table with 3 as with all, and a metagenome's AT-rich contigs cost half as much
TABLE4_SCREEN_SETS = 3


def find_genes_meta_any_code(records: list[list[_StrandData]], under_table4, settings: ProkaryoteSettings,
                             sets: list[ParameterSet] | None = None,
                             readthrough_rule: bool = True) -> tuple[list[list[OrfGene]], list[str], list[int]]:
    """find_genes_meta with no genetic code asked for: `records` prepared under table 11,
    `under_table4(i)` prepares record i again under table 4. Returns per record its genes, its
    parameter set's name and its table (11 or 4). readthrough_rule=False: the higher score alone
    decides, Prodigal's rule (the ablation in bench/prokaryote/meta_pieces.py)."""
    sets = load_sets() if sets is None else sets
    groups = _process_groups(records, settings.threads)
    if len(groups) > 1:
        alone = replace(settings, threads=1)
        parts = in_processes(lambda g: _any_code(records, list(g), under_table4, alone, sets, readthrough_rule), groups)
        return tuple([x for p in parts for x in p[k]] for k in range(3))
    return _any_code(records, list(range(len(records))), under_table4, settings, sets, readthrough_rule)


def _any_code(records, indices: list[int], under_table4, settings, sets, readthrough_rule: bool = True):
    table4 = sets_for_code(sets, 4)
    chosen = best_sets([records[i] for i in indices], settings, sets_for_code(sets, 11))
    tables = [11] * len(indices)
    tried = [j for j, i in enumerate(indices) if table4 and record_gc(records[i]) <= TABLE4_MAX_GC]
    again = [under_table4(indices[j]) for j in tried]  # decoded together, as the table-11 reading
    prepared = [records[i] for i in indices]
    for j, rec4, best4 in zip(tried, again, best_sets(again, replace(settings, meta_screen_sets=TABLE4_SCREEN_SETS), table4)):
        best = chosen[j]
        if best4 is not None and (best is None or best4[3] > best[3]):
            read, codons = readthroughs(rec4, best4[1])
            if not readthrough_rule or (read >= MIN_READTHROUGHS and read >= MIN_READTHROUGH_RATE * codons):
                prepared[j], chosen[j], tables[j] = rec4, best4, 4
    genes = [[] if best is None else _genes(rec, best[1], best[2]) for rec, best in zip(prepared, chosen)]
    return genes, ["" if best is None else best[0] for best in chosen], tables


def readthroughs(rec: list[_StrandData], chosen: list[np.ndarray]) -> tuple[int, int]:
    """(in-frame TGA codons inside the chosen candidates of one record, their stop codons not
    counted; the candidates' codons): under table 4, the TGAs its genes read as tryptophan."""
    n = codons = 0
    for d, idx in zip(rec, chosen):
        c = d.cand
        for k in idx:
            a, e = int(c.a[k]), int(c.e[k])
            last = e + 1 if c.open3[k] else e - 2  # one past the last sense codon
            first = a + (last - a) % 3
            n += sum(1 for m in re.finditer(b"TGA", c.seq[first:last].upper()) if m.start() % 3 == 0)
            codons += (last - first) // 3
    return n, codons


def _process_groups(records: list[list[_StrandData]], processes: int) -> list[range]:
    """Consecutive runs of records with about equal bases, one per process (one run where the
    records are too few or too small to be worth a process)."""
    size = [_bases([rec]) for rec in records]
    total = sum(size)
    if processes < 2 or len(records) < 2 or total < MIN_PROCESS_BASES:
        return [range(len(records))]
    groups, first, acc = [], 0, 0
    for i, n in enumerate(size):
        acc += n
        if acc * processes >= total * (len(groups) + 1) and len(groups) < processes - 1:
            groups.append(range(first, i + 1))
            first = i + 1
    if first < len(records):
        groups.append(range(first, len(records)))
    return groups


def _find_genes_meta(records, settings, sets, code, gc_window) -> tuple[list[list[OrfGene]], list[str]]:
    out, names = [], []
    for rec, best in zip(records, best_sets(records, settings, sets, code, gc_window)):
        if best is None:
            out.append([]); names.append("")
            continue
        name, chosen, scores, _ = best
        out.append(_genes(rec, chosen, scores))
        names.append(name)
    return out, names


def best_sets(records: list[list[_StrandData]], settings: ProkaryoteSettings, sets: list[ParameterSet] | None = None,
              code: int | None = None, gc_window: float | None = None) -> list[tuple[str, list, list] | None]:
    """Per record: (name of the set whose gene set scores highest, the chosen candidates per
    strand, every candidate's score under it, the gene set's total score); None for a record
    without candidates."""
    sets = sets_for_code(load_sets() if sets is None else sets, code)
    with_sd_weights = any(s.dicodon is not None and s.dicodon.type_wt is not None for s in sets)
    if settings.use_dp and sum(len(d.cand.a) for rec in records for d in rec) >= COMPILED_FROM:
        # a metagenome's contigs are decoded one at a time, each under ~12 sets: the compiled
        # DP (the same chains, dp_kernel.py) for all of them once the whole is large enough to
        # pay for numba's start (10,000 contigs of 0.5-3 kb: 35.5 against 36.8 s, the same genes)
        from genet5.predict.prokaryote.dp_kernel import kernel

        kernel()
    out: list[tuple[str, list, list] | None] = []
    for rec in _with_sd_masks(records, with_sd_weights):
        best = None
        wvec = weight_vector(settings, [rec], meta=True)
        cache = ContextCache()  # the sets share one chain order: the contexts are read once
        hex_cache = HexamerCache()
        memo: dict = {}  # parts the sets share, scored once for this record (threads.memoized)
        chosen_sets = screened(rec, competing(sets, record_gc(rec), gc_window), settings.meta_screen_sets, cache, memo)
        if settings.use_dicodon and settings.meta_dicodon:
            _hexamer_scores(rec, [s.dicodon for s in chosen_sets if s.dicodon is not None], hex_cache, memo)
        for s in chosen_sets:
            if s.dicodon is not None and settings.use_dicodon and settings.meta_dicodon:
                w = dicodon_weights(wvec, s.dicodon, settings)
                scores = score_records([rec], s.coding, s.starts, settings, w, cache, s.dicodon, hex_cache, memo)
                junction = w[FEATURES.index("dicodon_start")] if settings.dicodon_junctions else 0.0
                chosen = _decode([rec], scores, settings, junction_weight=junction)
            else:
                scores = score_records([rec], s.coding, s.starts, settings, wvec, cache, memo=memo)
                chosen = _decode([rec], scores, settings, junction_unit=settings.meta_junction_unit)
            total = sum(float(sc[idx].sum()) for sc, idx in zip(scores[0], chosen[0]))
            if best is None or total > best[0]:
                best = (total, s.name, chosen[0], scores[0])
        out.append(None if best is None else (*best[1:], best[0]))
    return out


def _hexamer_scores(rec: list[_StrandData], models: list[DicodonModel], hex_cache: HexamerCache, memo: dict) -> None:
    """Each strand's coding scores under every distinct hexamer table of `models`, read in one
    gather (DicodonModel.coding_scores_many) and put in the memo where DicodonModel.scores looks
    for them: the same numbers as one call per set."""
    tables = list({id(m.coding): m for m in models}.values())
    if not tables:
        return
    for d in rec:
        rows = DicodonModel.coding_scores_many(tables, d.cand, d.length, hex_cache)
        for m, row in zip(tables, rows):
            memo[("hexamers", id(m.coding), id(d.cand))] = row


def _with_sd_masks(records: list[list[_StrandData]], needed: bool, chunk_bases: int = 2_000_000):
    """The records in order, their Shine-Dalgarno motif bins found (where `needed`) for a chunk
    of records at a time: one pass costs ~3 ms of Python whatever its length, a lot for a
    metagenome of thousands of short contigs, and a whole metagenome at once would hold all its
    bases' codes."""
    i = 0
    while i < len(records):
        j, bases = i, 0
        while j < len(records) and (j == i or bases < chunk_bases):
            bases += _bases([records[j]])
            j += 1
        if needed:
            ensure_sd_masks(records[i:j])
        yield from records[i:j]
        i = j


def screened(rec: list[_StrandData], sets: list[ParameterSet], keep: int, cache: ContextCache,
             memo: dict) -> list[ParameterSet]:
    """The `keep` sets (in their order) whose coding chain scores the record's ORFs highest: for
    each ORF its best start's chain score, the positive ones summed. Scoring a set in full (its
    start model, its dicodon score, the DP) costs several times its chain, and the set that wins
    the DP is nearly always one whose chain fits. The chains are read together (ChainStack) and
    their scores go into the memo that candidate_features reads."""
    if keep <= 0 or len(sets) <= keep:
        return sets
    fit: dict[int, float] = {id(s.coding): 0.0 for s in sets}
    for stack in chain_stacks(sets):
        for d in rec:
            sums = stack.frame_sums(d.cand.seq, d.cand.a, d.cand.e, cache)
            rows = best_start_per_orf_rows(np.asarray(sums), orf_groups(d.cand))  # every chain at once
            for c, cod, best in zip(stack.models, sums, rows):
                memo[chain_key(c, d.cand)] = cod
                best = best[np.isfinite(cod[best])]
                fit[id(c)] += float(np.maximum(cod[best], 0.0).sum())
    order = np.argsort(-np.array([fit[id(s.coding)] for s in sets]), kind="stable")
    top = set(order[:keep].tolist())
    return [s for i, s in enumerate(sets) if i in top]


@functools.lru_cache(maxsize=8)
def _stacks(chains: tuple[CodingModel, ...]) -> list[ChainStack]:
    by_order: dict[int, list[CodingModel]] = {}
    for c in chains:
        by_order.setdefault(c.k, []).append(c)
    return [ChainStack(group) for group in by_order.values()]


def chain_stacks(sets: list[ParameterSet]) -> list[ChainStack]:
    """The sets' distinct coding chains, stacked by order (kept for the next record)."""
    return _stacks(tuple({id(s.coding): s.coding for s in sets}.values()))


def sets_for_code(sets: list[ParameterSet], code: int | None) -> list[ParameterSet]:
    """The sets fitted under genetic code `code`; without any, those fitted under a code with the
    same stop codons (code 25 reads TGA as glycine, code 4 as tryptophan: their genes have the
    same in-frame codons, so code 4's statistics fit), else all of them."""
    if code is None:
        return sets
    same = [s for s in sets if s.code == code]
    if same:
        return same
    stops = genetic_code(code).stops
    alike = [s for s in sets if genetic_code(s.code).stops == stops]
    return alike or sets


def record_gc(rec: list[_StrandData]) -> float:
    """G+C share of the A/C/G/T bases of one prepared record (its forward segments)."""
    return gc_share(b"".join(d.cand.seq for d in rec if d.cand.strand == "+"))


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
