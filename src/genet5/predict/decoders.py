"""Gene-structure decoders: what turns a genome's sequences (and the network's per-base
evidence) into genes, and the table `genet5 predict` chooses them from.

A decoder is a class of the `Decoder` shape below. One instance decodes one genome: the
pipeline (predict/pipeline.py) reads the FASTA record by record and hands each record to `add`,
with the network's per-base log-probabilities when the decoder uses them; `finish` then decodes
(decoders that learn from the whole genome, such as a start model or self-trained statistics,
do so here) and returns the genes of every record.

`DECODERS` lists them, one line each: the name (`--decoder`), the domain whose default it is or
that it serves, where its class lives, and its `--help` text. Adding a decoder is its module
(with the class) plus one line in this table; predict, the CLI's `--decoder` choices and help,
and bench/predict_breakdown.py take it from here.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Callable, Protocol

import numpy as np

from genet5.genome.codes import genetic_code
from genet5.genome.fasta import FastaRecord

if TYPE_CHECKING:
    from genet5.predict.pipeline import PredictConfig

DOMAINS = ("prokaryote", "eukaryote")


@dataclass
class Decoded:
    """What a decoder found in one genome."""

    genes: list[list]  # per record, in the order added: OrfGene or ViterbiGene (predict/genes.py)
    mode: str = ""  # the variant it chose, said in the GFF3 header (prokaryote: single/meta, ...)
    meta_sets: list[str] = field(default_factory=list)  # prokaryote meta mode: each record's parameter set
    # prokaryote single mode under table 11: whether its genes read on past TGA (code_choice.py)
    code_choice: object | None = None
    trained: object | None = None  # prokaryote single mode with PredictConfig.write_training: its meta.ParameterSet
    tables: list[int] | None = None  # per record, where the decoder chose each record's genetic code (prokaryote meta mode)
    notes: list[str] = field(default_factory=list)  # where the genome changed what was asked (said on stderr, even with -q)


class Decoder(Protocol):
    """Built as `Decoder(cfg, source)`: the run's PredictConfig, and the genome's name for
    messages (problems with the genome itself raise GenomeFormatError naming it)."""

    # True: `add` gets the network's per-base log-probabilities, (L, classes) float32 over
    # tokenizers/annotation.BaseClass, for every record at least cfg.min_gene_length long
    # (None for shorter ones). False: always None, and the network is not run for it.
    uses_track: bool

    def add(self, rec: FastaRecord, track: np.ndarray | None) -> None:
        """Take one record; keep only what `finish` needs (the track itself may be dropped)."""

    def finish(self, on_bases: Callable[[float], None] | None = None) -> Decoded:
        """Genes of every record added. `on_bases`: progress in bases, for decoders that do
        their work here and do not use the track (the network's pass counts the others)."""


@dataclass(frozen=True)
class DecoderEntry:
    name: str
    domains: tuple[str, ...]  # the domains it decodes; the first entry of a domain is its default
    where: str  # "module:Class", imported only when the decoder is built
    help: str  # one line for `genet5 predict --help`

    def build(self, cfg: PredictConfig, source: str = "") -> Decoder:
        module, cls = self.where.split(":")
        return getattr(importlib.import_module(module), cls)(cfg, source)


DECODERS: dict[str, DecoderEntry] = {e.name: e for e in (
    DecoderEntry("prokaryote", ("prokaryote",), "genet5.predict.prokaryote.genome_decoder:ProkaryoteDecoder",
                 "self-trained gene statistics + bundled start classifier + whole-sequence DP (bacteria, archaea, phages, "
                 "plastids; the per-base network only with --network)"),
    DecoderEntry("selftrained", ("eukaryote",), "genet5.predict.selftrained:SelfTrainedDecoder",
                 "multi-exon genes from the genome's own coding/intron chains and splice-site matrices, re-estimated over "
                 "rounds, in the gene-structure HMM; no network"),
    DecoderEntry("orf", ("eukaryote",), "genet5.predict.orf_decoder:OrfDecoder",
                 "per-base head + ORF selection with a per-genome start model, no introns"),
    DecoderEntry("viterbi", ("eukaryote",), "genet5.predict.viterbi_decoder:ViterbiDecoder",
                 "per-base head + gene-structure HMM"),
    # last: it is no domain's default (the first entry listing a domain is)
    DecoderEntry("seq2seq", ("prokaryote", "eukaryote"), "genet5.predict.seq2seq_decoder:Seq2SeqDecoder",
                 "GeneT5's encoder-decoder writes the genes (pointers to bases, decoding constrained to valid genes; "
                 "bundled genet5-seq2seq / genet5-seq2seq-eukaryote or --model DIR); far below the defaults so far "
                 "(docs/benchmarks.md)"),
)}


def decoders_for(domain: str) -> list[str]:
    """Names of the decoders of a domain, its default first."""
    return [name for name, e in DECODERS.items() if domain in e.domains]


def default_decoder(domain: str) -> str:
    names = decoders_for(domain)
    if not names:
        raise ValueError(f"no decoder for domain {domain!r} (domains: {', '.join(DOMAINS)})")
    return names[0]


def build_decoder(cfg: PredictConfig, source: str = "") -> Decoder:
    """The decoder cfg names (cfg.decoder, else the default of cfg.domain), built for one genome."""
    name = cfg.decoder or default_decoder(cfg.domain)
    if name not in DECODERS:
        raise ValueError(f"unknown decoder {name!r} (available: {', '.join(DECODERS)})")
    return DECODERS[name].build(cfg, source)


# -- what the decoders share ------------------------------------------------------------------
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
