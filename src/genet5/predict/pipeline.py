"""Whole-genome prediction: FASTA in, gene models out.

The FASTA is read once, record by record (one record in memory, unless the decoder keeps what
it needs). For decoders that use the network, each record is tiled into overlapping windows and
run through the per-base model (GeneT5PerBase: encoder + per-base head) in batches; every base
keeps the prediction of the window in which it sits farthest from an edge (the centre of each
window), so window borders neither lose nor double anything. The record and its per-base track
then go to the decoder chosen in predict/decoders.py, which emits only valid genes; once every
record is in, it decodes (genome-wide statistics, start models) and the genes are collected.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Callable

import numpy as np

from genet5.genome.fasta import read_fasta
from genet5.genome.models import Annotation, GenomeFormatError
from genet5.predict.decoders import build_decoder
from genet5.predict.genes import gap_edges, predicted_gene
from genet5.tokenizers.nucleotide import NucleotideTokenizer

if TYPE_CHECKING:  # imported where -g auto runs: it pulls in the prokaryote decoder
    from genet5.predict.prokaryote.code_choice import CodeChoice


@dataclass
class PredictConfig:
    window: int = 4096  # bases per encoder window
    context: int = 256  # bases at each window edge used only as context
    batch_size: int = 4
    genetic_code: int = 11  # 0: auto (prokaryotes: 11 or 4 from the genome, predict/prokaryote/code_choice.py)
    # the table was not asked for: a prokaryote genome decoded under table 11 whose genes read on
    # past TGA (code_choice.py, from the decoding itself) is decoded again under table 4
    code_from_genome: bool = False
    domain: str = "eukaryote"  # prokaryote or eukaryote: the default decoder, and the start codons
    decoder: str | None = None  # a name in predict/decoders.py DECODERS; None: the domain's default
    min_gene_length: int = 90  # bases, stop codon included
    max_overlap: int = 60  # orf decoder
    min_score: float | None = None  # genes scoring at most this are dropped; None: the decoder's default
    id_prefix: str = "genet5"
    start_codons: tuple[str, ...] | None = None  # None: the code's starts (ATG only for code 1)
    learn_starts: bool = True  # orf and prokaryote decoders: self-trained per-genome start model
    use_network: bool = False  # prokaryote: add the per-base network's evidence (off by default: it adds nothing on validation genomes, docs/benchmarks.md)
    mode: str = "auto"  # prokaryote: single (self-trained), meta (shipped parameter sets), auto (by size)
    closed: bool = False  # prokaryote: complete genes only, none partial at a sequence end or gap (Prodigal's -c)
    training_set: object | None = None  # prokaryote: a training file's meta.ParameterSet to decode with (Prodigal's -t)
    write_training: bool = False  # prokaryote single mode: keep what the genome taught itself (Decoded.trained)
    softmask: bool = True  # eukaryote selftrained: lower-case bases count as repeats (eukaryote/decoder.py, repeats.py)
    species: str = "auto"  # eukaryote selftrained: species prior (eukaryote/priors.py): auto, none, or a name
    seq2seq_model: str | None = None  # seq2seq decoder: checkpoint directory or bundled name (None: genet5-seq2seq)
    workers: int = 0  # eukaryote selftrained: processes for the Viterbi batches; 0: the idle CPUs (CPUs less the load average; at most 4)


def window_starts(length: int, window: int, context: int) -> list[int]:
    """Window start offsets covering [0, length): consecutive windows overlap by 2 * context."""
    if length <= window:
        return [0]
    stride = window - 2 * context
    starts = list(range(0, length - window, stride))
    starts.append(length - window)
    return starts


def per_base_logprobs(
    model,
    seq: bytes,
    cfg: PredictConfig,
    on_bases: Callable[[int], None] | None = None,
) -> np.ndarray:
    """(L, n_classes) float32 log-probabilities of the per-base head over a whole sequence.
    `model`: a GeneT5PerBase (the bundled model), or a GeneT5 whose encoder and head are used.
    torch is imported here, not with the module: decoders without the network never load it."""
    import torch

    with torch.no_grad():
        return _per_base_logprobs(torch, model, seq, cfg, on_bases)


def _per_base_logprobs(torch, model, seq: bytes, cfg: PredictConfig, on_bases) -> np.ndarray:
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
    code_choice: CodeChoice | None = None  # -g auto: the table and the evidence for it
    table4_sequences: int = 0  # meta mode without -g: the sequences whose genes read TGA as tryptophan (table 4)
    mode: str = ""  # prokaryote: single or meta; eukaryote (selftrained): intron-rich or compact
    meta_sets: list[str] = field(default_factory=list)  # meta: the parameter set of each sequence
    trained: object | None = None  # with PredictConfig.write_training: the genome's meta.ParameterSet
    per_sequence: dict[str, int] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)  # where the genome changed what was asked (the CLI says each on stderr)


def predict_genome(
    model, fasta: str | Path, cfg: PredictConfig, on_bases=None, on_track=None, on_record=None, records=None,
) -> tuple[Annotation, dict[str, int], PredictionStats]:
    """Annotation of every record, the sequence lengths (for ##sequence-region), and stats.

    `on_bases(n)`: progress, in bases; `on_track(seqid, logp)`: each record's per-base track
    (bedGraph output; the network then runs whatever the decoder); `on_record(rec)`: each record
    as it is read (the FASTA is read once: a caller that needs the sequences afterwards keeps
    them); `records`: the stream of `fasta`'s records where the caller has begun reading it
    (read_fasta's, with the records already read put back in front)."""
    ann = Annotation(source=str(fasta))
    lengths: dict[str, int] = {}
    stats = PredictionStats()
    t0 = time.perf_counter()
    records = read_fasta(fasta) if records is None else records
    if cfg.genetic_code == 0:  # auto: needs the whole genome before the first record is decoded
        from genet5.predict.prokaryote.code_choice import choose_code

        records = list(records)
        stats.code_choice = choose_code([(r.id, r.seq) for r in records])
        cfg = replace(cfg, genetic_code=stats.code_choice.table)
    stats.genetic_code = cfg.genetic_code
    decoder = build_decoder(cfg, str(fasta))
    # the records, kept where the decoding may have to be redone under table 4 (prokaryotes
    # fit in memory: the decoder holds their candidates anyway)
    kept = [] if cfg.code_from_genome and cfg.genetic_code == 11 and not decoder.uses_track else None
    order: list[str] = []
    edges: dict[str, list[int]] = {}  # per record, gap_edges: where a cut gene ends
    acgt = 0
    for rec in records:
        if on_record is not None:
            on_record(rec)
        acgt += len(rec.seq) - rec.seq.upper().count(b"N")
        lengths[rec.id] = len(rec.seq)
        edges[rec.id] = gap_edges(rec.seq)
        ann.genetic_codes[rec.id] = cfg.genetic_code
        order.append(rec.id)
        stats.sequences += 1
        stats.bases += len(rec.seq)
        track = None
        if len(rec.seq) >= cfg.min_gene_length and (decoder.uses_track or on_track is not None):
            # the network's pass counts the progress of the decoders that use it
            track = per_base_logprobs(model, rec.seq, cfg, on_bases if decoder.uses_track else None)
            if on_track is not None:
                on_track(rec.id, track)
        elif decoder.uses_track and on_bases is not None:
            on_bases(len(rec.seq))
        decoder.add(rec, track if decoder.uses_track else None)
        if kept is not None:
            kept.append(rec)
        del track  # one record's track in memory at a time
    if stats.bases == 0 or acgt == 0:
        raise GenomeFormatError(str(fasta), None, "no A/C/G/T bases in any sequence (only N or empty): nothing to annotate")
    decoded = decoder.finish(None if decoder.uses_track else on_bases)
    if kept is not None and decoded.code_choice is not None and decoded.code_choice.table == 4:
        # TGA reads as tryptophan here (a Mycoplasma, a Spiroplasma): table 4, as -g auto would
        stats.code_choice, cfg = decoded.code_choice, replace(cfg, genetic_code=4)
        stats.genetic_code = 4
        decoder = build_decoder(cfg, str(fasta))
        for rec in kept:
            decoder.add(rec, None)
        decoded = decoder.finish()
        ann.genetic_codes = {seqid: 4 for seqid in ann.genetic_codes}
    stats.mode, stats.meta_sets, stats.trained, stats.notes = decoded.mode, decoded.meta_sets, decoded.trained, decoded.notes
    if decoded.tables is not None:  # meta mode chose each sequence's table (meta.find_genes_meta_any_code)
        ann.genetic_codes.update(zip(order, decoded.tables))
        stats.table4_sequences = decoded.tables.count(4)
    for seqid, found in zip(order, decoded.genes):
        for i, g in enumerate(found, 1):
            ann.add_gene(predicted_gene(g, seqid, i, cfg.id_prefix, edges[seqid]))
        stats.genes += len(found)
        stats.per_sequence[seqid] = len(found)
    stats.seconds = time.perf_counter() - t0
    return ann, lengths, stats
