"""Whole-genome prediction: FASTA in, gene models out.

Each sequence is read once (one record in memory), tiled into overlapping windows, and run
through the GeneT5 encoder and its per-base head in batches; every base keeps the prediction of
the window in which it sits farthest from an edge (the centre of each window), so window borders
neither lose nor double anything. The stitched per-base track then goes to a gene-structure
decoder that only emits valid genes (predict/orf_decoder.py, predict/viterbi_decoder.py).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np
import torch

from genet5.genome.codes import genetic_code
from genet5.genome.fasta import FastaRecord, read_fasta
from genet5.genome.models import Annotation, Gene, GenomeFormatError
from genet5.predict.genes import predicted_gene
from genet5.predict.orf_decoder import RecordOrfs, decode_genome, record_orfs
from genet5.tokenizers.nucleotide import NucleotideTokenizer


@dataclass
class PredictConfig:
    window: int = 4096  # bases per encoder window
    context: int = 256  # bases at each window edge used only as context
    batch_size: int = 4
    genetic_code: int = 11  # 0: auto (prokaryotes: 11 or 4 from the genome, predict/prokaryote/code_choice.py)
    decoder: str = "orf"
    min_gene_length: int = 90  # bases, stop codon included
    max_overlap: int = 60
    min_score: float = 0.0
    id_prefix: str = "genet5"
    both_orientations: bool = False  # also run the reverse complement and use it for '-' genes
    start_codons: tuple[str, ...] | None = None  # None: the code's starts (ATG only for code 1)
    learn_starts: bool = True  # ORF decoder: self-trained per-genome start model
    domain: str = "eukaryote"  # "prokaryote": predict/prokaryote (self-trained statistics + network + DP)
    use_network: bool = True  # prokaryote: add the network's per-base evidence (off: statistics alone)
    mode: str = "auto"  # prokaryote: single (self-trained), meta (shipped parameter sets), auto (by size)
    softmask: bool = False  # eukaryote selftrained: lower-case repeats make coding less likely (decoder.py)


COMMON_PROKARYOTIC_STARTS = frozenset({b"ATG", b"GTG", b"TTG"})


def start_codon_set(cfg: PredictConfig) -> frozenset[bytes]:
    """Translation starts the decoder may use. Nuclear genes of eukaryotes (code 1) start with
    ATG; the NCBI table's extra starts (TTG, CTG) are for rare cases and would only add decoys.
    Prokaryotes: the table's common starts (ATG, GTG, TTG); the rare ones that tables 4 and 11
    also list (CTG, ATT, ATC, ATA) start a handful of genes per genome and would add thousands of
    decoys, so they are used only when asked for (--start-codons)."""
    if cfg.start_codons:
        return frozenset(c.upper().encode() for c in cfg.start_codons)
    if cfg.domain == "prokaryote":
        return genetic_code(cfg.genetic_code).starts & COMMON_PROKARYOTIC_STARTS
    return frozenset({b"ATG"}) if cfg.genetic_code == 1 else genetic_code(cfg.genetic_code).starts


def window_starts(length: int, window: int, context: int) -> list[int]:
    """Window start offsets covering [0, length): consecutive windows overlap by 2 * context."""
    if length <= window:
        return [0]
    stride = window - 2 * context
    starts = list(range(0, length - window, stride))
    starts.append(length - window)
    return starts


@torch.no_grad()
def per_base_logprobs(
    model,
    seq: bytes,
    cfg: PredictConfig,
    on_bases: Callable[[int], None] | None = None,
) -> np.ndarray:
    """(L, n_classes) float32 log-probabilities of the per-base head over a whole sequence.
    `model`: a GeneT5PerBase (the bundled model), or a GeneT5 whose encoder and head are used."""
    model = model.per_base()
    tok = NucleotideTokenizer(model.config.enc_vocab_size)
    n = len(seq)
    ids = tok.encode(seq)
    device = next(model.parameters()).device
    n_classes = model.config.n_base_classes
    out = np.zeros((n, n_classes), dtype=np.float32)
    starts = window_starts(n, cfg.window, cfg.context)
    width = min(cfg.window, n)
    for b in range(0, len(starts), cfg.batch_size):
        chunk = starts[b : b + cfg.batch_size]
        x = torch.from_numpy(np.stack([ids[s : s + width] for s in chunk])).to(device)
        logp = torch.log_softmax(model(x).float(), dim=-1).cpu().numpy()
        for row, s in enumerate(chunk):
            # keep the centre: from the midpoint of the overlap with the previous window to the
            # midpoint of the overlap with the next (the ends of the sequence keep their edges)
            i = b + row
            lo = 0 if i == 0 else (starts[i - 1] + width + s) // 2 - s
            hi = width if i == len(starts) - 1 else (s + width + starts[i + 1]) // 2 - s
            out[s + lo : s + hi] = logp[row, lo:hi]
            if on_bases is not None:
                on_bases(hi - lo)
    return out


@dataclass
class PredictionStats:
    sequences: int = 0
    bases: int = 0
    genes: int = 0
    seconds: float = 0.0
    genetic_code: int = 0  # the table used (chosen from the genome under -g auto)
    tga_share: float | None = None  # -g auto: share of table-4 genes with an in-frame TGA
    mode: str = ""  # prokaryote: single or meta; eukaryote (selftrained): intron-rich or compact
    meta_sets: list[str] = field(default_factory=list)  # meta: the parameter set of each sequence
    per_sequence: dict[str, int] = field(default_factory=dict)


def _tracks(model, rec: FastaRecord, cfg: PredictConfig, on_bases=None, on_track=None):
    """Per-base log-probabilities of one record (forward, and reverse complement when asked)."""
    logp = per_base_logprobs(model, rec.seq, cfg, on_bases)
    if on_track is not None:  # the forward-strand per-base track, e.g. for bedGraph output
        on_track(rec.id, logp)
    logp_rc = None
    if cfg.both_orientations:
        from genet5.genome.codes import reverse_complement

        logp_rc = per_base_logprobs(model, reverse_complement(rec.seq), cfg, on_bases)
    return logp, logp_rc


def _record_orfs(model, rec: FastaRecord, cfg: PredictConfig, on_bases=None, on_track=None) -> RecordOrfs:
    """The ORF decoder's first half for one record: per-base track -> candidate ORFs."""
    if len(rec.seq) < cfg.min_gene_length:
        return RecordOrfs(len(rec.seq), [])
    logp, logp_rc = _tracks(model, rec, cfg, on_bases, on_track)
    return record_orfs(
        rec.seq, logp, genetic_code(cfg.genetic_code), logp_rc_LC=logp_rc,
        min_len=cfg.min_gene_length, start_codons=start_codon_set(cfg),
    )


def _decode_orf_records(records: list[RecordOrfs], cfg: PredictConfig):
    return decode_genome(records, min_score=cfg.min_score, max_overlap=cfg.max_overlap, learn_starts=cfg.learn_starts)


def predict_record(model, rec: FastaRecord, cfg: PredictConfig, on_bases=None, on_track=None) -> list[Gene]:
    """Genes of one record on its own (predict_genome decodes ORFs genome-wide instead)."""
    if cfg.decoder not in ("orf", "viterbi"):
        raise ValueError(f"unknown decoder {cfg.decoder!r} for one record (available: orf, viterbi; "
                         "selftrained decodes a whole genome: predict_genome)")
    if cfg.decoder == "orf":
        found = _decode_orf_records([_record_orfs(model, rec, cfg, on_bases, on_track)], cfg)[0]
        return [predicted_gene(g, rec.id, i, cfg.id_prefix) for i, g in enumerate(found, 1)]
    if len(rec.seq) < cfg.min_gene_length:
        return []
    from genet5.predict.viterbi_decoder import decode_viterbi

    logp, logp_rc = _tracks(model, rec, cfg, on_bases, on_track)
    genes = decode_viterbi(
        rec.seq, logp, genetic_code(cfg.genetic_code), logp_rc_LC=logp_rc, starts=start_codon_set(cfg),
        min_len=cfg.min_gene_length, min_score=cfg.min_score,
    )
    return [predicted_gene(g, rec.id, i, cfg.id_prefix) for i, g in enumerate(genes, 1)]


def predict_genome(
    model, fasta: str | Path, cfg: PredictConfig, on_bases=None, on_track=None
) -> tuple[Annotation, dict[str, int], PredictionStats]:
    """Annotation of every record, the sequence lengths (for ##sequence-region), and stats.

    The ORF decoder sees the whole genome at once (its start model is learned per genome, and
    draft assemblies are many small contigs): each record's track is reduced to its candidate
    ORFs as it is read, and the decoding runs once all are in. Other decoders go record by
    record."""
    ann = Annotation(source=str(fasta))
    lengths: dict[str, int] = {}
    stats = PredictionStats()
    t0 = time.perf_counter()
    pending: list[tuple[str, RecordOrfs]] = []
    prokaryotic: list = []
    eukaryotic: list[tuple[str, bytes]] = []
    eukaryotic_masks: list[list[tuple[int, int]]] = []
    records = read_fasta(fasta)
    if cfg.genetic_code == 0:  # auto: needs the whole genome before the first record is decoded
        from dataclasses import replace

        from genet5.predict.prokaryote.code_choice import choose_code

        records = list(records)
        code, stats.tga_share = choose_code([(r.id, r.seq) for r in records])
        cfg = replace(cfg, genetic_code=code)
    stats.genetic_code = cfg.genetic_code
    acgt = 0
    for rec in records:
        acgt += len(rec.seq) - rec.seq.upper().count(b"N")
        lengths[rec.id] = len(rec.seq)
        ann.genetic_codes[rec.id] = cfg.genetic_code
        stats.sequences += 1
        stats.bases += len(rec.seq)
        if cfg.domain == "prokaryote":
            prokaryotic.append((rec.id, _prepare_prokaryotic(model, rec, cfg, on_bases, on_track)))
            continue
        if cfg.decoder == "selftrained":
            eukaryotic.append((rec.id, rec.seq))
            eukaryotic_masks.append(rec.mask)
            continue
        if cfg.decoder == "orf":
            pending.append((rec.id, _record_orfs(model, rec, cfg, on_bases, on_track)))
            continue
        genes = predict_record(model, rec, cfg, on_bases, on_track)
        for g in genes:
            ann.add_gene(g)
        stats.genes += len(genes)
        stats.per_sequence[rec.id] = len(genes)
    if pending:
        decoded = _decode_orf_records([r for _, r in pending], cfg)
        for (seqid, _), found in zip(pending, decoded):
            for i, g in enumerate(found, 1):
                ann.add_gene(predicted_gene(g, seqid, i, cfg.id_prefix))
            stats.genes += len(found)
            stats.per_sequence[seqid] = len(found)
    if stats.bases == 0 or acgt == 0:
        raise GenomeFormatError(str(fasta), None, "no A/C/G/T bases in any sequence (only N or empty): nothing to annotate")
    if prokaryotic:
        from genet5.predict.prokaryote.decoder import find_genes
        from genet5.predict.prokaryote.meta import META_BELOW, find_genes_meta

        if cfg.mode == "single" and stats.bases < META_BELOW:
            raise GenomeFormatError(str(fasta), None, f"{stats.bases:,} bp is too little for a genome to teach itself its gene "
                                    f"statistics (single mode needs >= {META_BELOW:,} bp): use --mode meta or --mode auto")
        meta = cfg.mode == "meta" or (cfg.mode == "auto" and stats.bases < META_BELOW)
        stats.mode = "meta" if meta else "single"
        if meta:
            decoded, stats.meta_sets = find_genes_meta([p for _, p in prokaryotic], _prokaryote_settings(cfg))
        else:
            decoded = find_genes([p for _, p in prokaryotic], _prokaryote_settings(cfg))
        for (seqid, _), found in zip(prokaryotic, decoded):
            for i, g in enumerate(found, 1):
                ann.add_gene(predicted_gene(g, seqid, i, cfg.id_prefix))
            stats.genes += len(found)
            stats.per_sequence[seqid] = len(found)
    if eukaryotic:
        from dataclasses import replace

        from genet5.predict.eukaryote.decoder import SOFTMASK_PENALTY, EukaryoteSettings, find_genes as find_eukaryotic_genes

        settings = EukaryoteSettings(min_len=cfg.min_gene_length, min_score=cfg.min_score)
        if cfg.softmask:
            settings = replace(settings, softmask_penalty=SOFTMASK_PENALTY)
        passes = settings.rounds + 1
        sizes = {seqid: len(seq) for seqid, seq in eukaryotic}

        def on_record(seqid: str) -> None:
            if on_bases is not None:
                on_bases(sizes[seqid] / passes)

        decoded, models = find_eukaryotic_genes(eukaryotic, genetic_code(cfg.genetic_code), settings,
                                                starts=start_codon_set(cfg), on_record=on_record,
                                                masks=eukaryotic_masks if cfg.softmask else None)
        # said in the GFF3 header: which settings the genome's gene density chose (decoder.py)
        if models.single_orf_fraction is not None:
            t = models.compactness
            kind = "intron-rich" if t == 0 else "compact" if t == 1 else f"{t:.0%} compact"
            stats.mode = f"{kind} (single-ORF fraction {models.single_orf_fraction:.2f})"
        for (seqid, _), found in zip(eukaryotic, decoded):
            for i, g in enumerate(found, 1):
                ann.add_gene(predicted_gene(g, seqid, i, cfg.id_prefix))
            stats.genes += len(found)
            stats.per_sequence[seqid] = len(found)
    stats.seconds = time.perf_counter() - t0
    return ann, lengths, stats


def _prokaryote_settings(cfg: PredictConfig):
    from genet5.predict.prokaryote.decoder import ProkaryoteSettings

    return ProkaryoteSettings(min_len=cfg.min_gene_length, use_net=cfg.use_network, use_start_model=cfg.learn_starts)


def _prepare_prokaryotic(model, rec: FastaRecord, cfg: PredictConfig, on_bases=None, on_track=None):
    """One record reduced to its candidate genes with the network's evidence summed along each
    (the per-base track itself is dropped here: memory stays one record's track at a time)."""
    from genet5.predict.prokaryote.decoder import prepare_record

    track = None
    if len(rec.seq) >= cfg.min_gene_length and (cfg.use_network or on_track is not None):
        track = per_base_logprobs(model, rec.seq, cfg, on_bases)
        if on_track is not None:
            on_track(rec.id, track)
    elif on_bases is not None:
        on_bases(len(rec.seq))
    return prepare_record(rec.id, rec.seq, genetic_code(cfg.genetic_code), start_codon_set(cfg),
                          _prokaryote_settings(cfg), track if cfg.use_network else None)
