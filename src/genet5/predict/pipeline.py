"""Whole-genome prediction: FASTA in, gene models out.

Each sequence is read once (one record in memory), tiled into overlapping windows, and run
through the GeneT5 encoder and its per-base head in batches; every base keeps the prediction of
the window in which it sits farthest from an edge (the centre of each window), so window borders
neither lose nor double anything. The stitched per-base track then goes to a gene-structure
decoder that only emits valid genes (predict/orf_decoder.py).
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
from genet5.genome.models import Annotation, Gene, Segment, Transcript
from genet5.predict.orf_decoder import OrfGene, decode_orfs
from genet5.tokenizers.nucleotide import NucleotideTokenizer


@dataclass
class PredictConfig:
    window: int = 4096  # bases per encoder window
    context: int = 256  # bases at each window edge used only as context
    batch_size: int = 4
    genetic_code: int = 11
    decoder: str = "orf"
    min_gene_length: int = 90  # bases, stop codon included
    max_overlap: int = 60
    min_score: float = 0.0
    id_prefix: str = "genet5"
    both_orientations: bool = False  # also run the reverse complement and use it for '-' genes


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
    """(L, n_classes) float32 log-probabilities of the per-base head over a whole sequence."""
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
        base = model.encoder(x)
        logp = torch.log_softmax(model.aux_head(base).float(), dim=-1).cpu().numpy()
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
    per_sequence: dict[str, int] = field(default_factory=dict)


def _to_gene(g: OrfGene, seqid: str, index: int, prefix: str) -> Gene:
    gid = f"{prefix}_{seqid}_{index}"
    tx = Transcript(
        id=f"{gid}.t1",
        gene_id=gid,
        seqid=seqid,
        strand=g.strand,
        cds=[Segment(g.start, g.end, g.strand)],
        start_partial=g.start_partial,
        end_partial=g.end_partial,
        attributes={"score": f"{g.score:.1f}", "start_codon": g.start_codon},
    )
    return Gene(id=gid, seqid=seqid, strand=g.strand, transcripts=[tx])


def predict_record(model, rec: FastaRecord, cfg: PredictConfig, on_bases=None, on_track=None) -> list[Gene]:
    if len(rec.seq) < cfg.min_gene_length:
        return []
    logp = per_base_logprobs(model, rec.seq, cfg, on_bases)
    if on_track is not None:  # the forward-strand per-base track, e.g. for bedGraph output
        on_track(rec.id, logp)
    logp_rc = None
    if cfg.both_orientations:
        from genet5.genome.codes import reverse_complement

        logp_rc = per_base_logprobs(model, reverse_complement(rec.seq), cfg, on_bases)
    if cfg.decoder != "orf":
        raise ValueError(f"unknown decoder {cfg.decoder!r} (available: orf)")
    code = genetic_code(cfg.genetic_code)
    found = decode_orfs(
        rec.seq, logp, code, logp_rc_LC=logp_rc,
        min_len=cfg.min_gene_length, min_score=cfg.min_score, max_overlap=cfg.max_overlap,
    )
    return [_to_gene(g, rec.id, i, cfg.id_prefix) for i, g in enumerate(found, 1)]


def predict_genome(
    model, fasta: str | Path, cfg: PredictConfig, on_bases=None, on_track=None
) -> tuple[Annotation, dict[str, int], PredictionStats]:
    """Annotation of every record, the sequence lengths (for ##sequence-region), and stats."""
    ann = Annotation(source=str(fasta))
    lengths: dict[str, int] = {}
    stats = PredictionStats()
    t0 = time.perf_counter()
    for rec in read_fasta(fasta):
        lengths[rec.id] = len(rec.seq)
        genes = predict_record(model, rec, cfg, on_bases, on_track)
        for g in genes:
            ann.add_gene(g)
        ann.genetic_codes[rec.id] = cfg.genetic_code
        stats.sequences += 1
        stats.bases += len(rec.seq)
        stats.genes += len(genes)
        stats.per_sequence[rec.id] = len(genes)
    stats.seconds = time.perf_counter() - t0
    return ann, lengths, stats
