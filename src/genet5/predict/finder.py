"""Prokaryotic gene finding from Python, for users of pyrodigal's API (`genet5.GeneFinder`).

    import genet5

    finder = genet5.GeneFinder()                 # or GeneFinder(meta=True): Prodigal's -p meta
    genes = finder.find_genes(sequence)          # str, bytes, a Biopython Seq or SeqRecord
    for gene in genes:
        gene.begin, gene.end, gene.strand, gene.partial_begin, gene.start_type, gene.score
        gene.translate()                         # protein, no trailing '*'
    genes.write_gff(fh, sequence_id="contig_1")  # also write_translations, write_genes

    finder.train(*contigs)                       # a draft's contigs teach one model together...
    per_contig = [finder.find_genes(c) for c in contigs]   # ...which then decodes each
    by_id = finder.find_genes_many(records)      # or the whole genome at once, as genet5 predict does

It runs the same decoder as `genet5 predict --domain prokaryote` (predict/pipeline.py, through
predict_genome on records built in memory), with the same defaults: without training, a
sequence of 50 kb or more teaches itself its statistics (single mode) and a shorter one is
decoded with the shipped parameter sets (meta mode); the genetic code is 11, or 4 where the
genes read on past TGA, unless one is given. Coordinates are pyrodigal's: `begin` <= `end`,
1-based and inclusive, `strand` +1 or -1, `partial_begin` / `partial_end` for a gene cut at the
left / right edge (a sequence end or a run of N); where an edge cuts a gene, `begin` / `end` are
the outer bases of its whole codons, as pyrodigal's, and sequence() / translate() agree with them.
Bad input raises GenomeFormatError (a ValueError) with the one line the command would print;
an argument of the wrong type (a sequence that is not str, bytes, Seq or SeqRecord; a number
that is not an int) a TypeError.
"""

from __future__ import annotations

import numbers
import os
import re
import sys
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from typing import IO

import numpy as np

from genet5.genome.fasta import FastaRecord, record_from_text
from genet5.genome.models import Annotation, GenomeFormatError, Segment, Transcript


@dataclass(frozen=True)
class Gene:
    """One predicted gene (its CDS, stop codon included). Where an edge cuts it, `begin` / `end`
    are the outer bases of its whole codons, as pyrodigal's (the bases of a cut codon beyond
    them are left out), and sequence() / translate() read exactly begin..end; `genet5 predict`'s
    GFF3 runs such a gene to the edge instead (NCBI's style, with a phase)."""

    sequence_id: str
    id: str
    begin: int  # leftmost base, 1-based
    end: int  # rightmost base, inclusive
    strand: int  # +1 or -1
    partial_begin: bool  # cut at the left edge (sequence start or a gap)
    partial_end: bool  # cut at the right edge
    start_type: str  # ATG, GTG, TTG, ... or Edge where the 5' end is cut
    rbs_motif: str | None  # the Shine-Dalgarno piece before the start (Prodigal's), None without
    rbs_spacer: str | None  # bases between it and the start, their exact count ("4bp", "9bp"; not Prodigal's "5-10bp")
    score: float
    translation_table: int
    _nucleotides: str = field(repr=False, default="")
    _protein: str = field(repr=False, default="")
    _cut_codon: str = field(repr=False, default="")  # a codon cut by an edge: its 1-2 bases after the whole codons

    def sequence(self) -> str:
        """The CDS in the gene's direction, from its first whole codon, stop codon included."""
        return self._nucleotides

    @property
    def gc_cont(self) -> float:
        """G+C share of the CDS (pyrodigal's gc_cont)."""
        seq = self._nucleotides
        return (seq.count("G") + seq.count("C")) / max(len(seq) - seq.count("N"), 1)

    def translate(self, translation_table: int | None = None, unknown_residue: str = "X", include_stop: bool = False,
                  strict: bool = True) -> str:
        """The protein, in pyrodigal's argument order (a cut 5' end does not begin with M).
        translation_table: another NCBI table to read the CDS with (default: the gene's own);
        unknown_residue: the letter for codons with an unknown base; include_stop: end with the
        stop's '*' where the gene has its stop codon (unlike pyrodigal, off by default);
        strict: False reads a codon with an unknown base where every base there gives the same
        amino acid (CCN: P), as pyrodigal's strict=False."""
        table = self.translation_table
        if translation_table is not None:
            table = _table_id("translation_table", translation_table)
        if not isinstance(unknown_residue, str) or len(unknown_residue) != 1:
            raise TypeError(f"unknown_residue: {unknown_residue!r} is not one character")
        if table == self.translation_table and strict:
            protein = self._protein + ("*" if include_stop and not self.partial_3prime else "")
        else:
            protein = _translate(self._nucleotides, table, not self._partial_5prime, strict)
            if protein.endswith("*") and not include_stop:
                protein = protein[:-1]
        return protein if unknown_residue == "X" else protein.replace("X", unknown_residue)

    @property
    def _partial_5prime(self) -> bool:
        return self.partial_begin if self.strand == 1 else self.partial_end

    @property
    def partial_3prime(self) -> bool:
        """The gene's stop end is cut (partial_end on +, partial_begin on -)."""
        return self.partial_end if self.strand == 1 else self.partial_begin


class Genes(list):
    """The genes of one sequence, in order along it, and writers for them."""

    def __init__(self, genes: Iterable[Gene], sequence_id: str, annotation: Annotation, length: int):
        super().__init__(genes)
        self.sequence_id, self._annotation, self._length = sequence_id, annotation, length

    def __getitem__(self, index):
        """A gene, or for a slice the Genes of those genes (their writers write only them)."""
        got = super().__getitem__(index)
        if not isinstance(index, slice):
            return got
        keep = {g.id for g in got}
        part = Annotation(source=self._annotation.source)
        part.genetic_codes.update(self._annotation.genetic_codes)
        for g in self._annotation.genes.get(self.sequence_id, []):
            if g.id in keep:
                part.add_gene(g)
        return Genes(got, self.sequence_id, part, self._length)

    def write_gff(self, fh: IO[str], sequence_id: str | None = None, header: bool = True) -> None:
        """GFF3 rows of these genes as `genet5 predict` writes them (a gene cut by an edge runs to
        it, the bases before its first whole codon in the phase column), under `sequence_id`
        (default: the sequence's own); header: the ##gff-version and ##sequence-region lines
        too (False: rows only, to follow another sequence's genes in one file)."""
        from genet5.genome.gff3_writer import write_gff3_handle

        _check_id(sequence_id)
        ann = _renamed(self._annotation, self.sequence_id, sequence_id)
        lengths = {sequence_id or self.sequence_id: self._length}
        if header:
            write_gff3_handle(fh, ann, lengths, source="genet5")
        else:  # rows only, for files holding several sequences' genes one after another
            import io

            buf = io.StringIO()
            write_gff3_handle(buf, ann, lengths, source="genet5")
            fh.writelines(ln + "\n" for ln in buf.getvalue().splitlines()
                          if not ln.startswith(("##gff-version", "##sequence-region")))

    def write_translations(self, fh: IO[str], sequence_id: str | None = None, width: int = 60,
                           headers: str = "genet5") -> None:
        """Protein FASTA, one record per gene, `width` letters a line, with the headers `genet5
        predict --proteins` writes (`>ID.t1 gene=ID SEQ:START-END(STRAND)`), or with
        headers="prodigal" Prodigal's (`>SEQ_N # BEGIN # END # 1|-1 # ID=1_N;partial=..;...`, the
        protein ending in '*' where the gene has its stop, as `--fasta-headers prodigal`)."""
        _check_id(sequence_id)
        _check_width(width)
        _write_fasta(fh, self._fasta_records(sequence_id, headers, protein=True), width)

    def write_genes(self, fh: IO[str], sequence_id: str | None = None, width: int = 60, headers: str = "genet5") -> None:
        """CDS nucleotide FASTA, one record per gene, `width` bases a line: what `genet5 predict
        --cds` writes (a gene cut by an edge from its first whole codon to the edge, the 1-2 bases
        of a cut last codon included), or with headers="prodigal" Prodigal's headers over
        Gene.sequence(), its whole codons only (Prodigal's -d, pyrodigal's write_genes)."""
        _check_id(sequence_id)
        _check_width(width)
        _write_fasta(fh, self._fasta_records(sequence_id, headers, protein=False), width)

    def _fasta_records(self, sequence_id: str | None, headers: str, protein: bool) -> Iterable[tuple[str, str]]:
        from genet5.genome.writers_fasta import HEADER_STYLES, transcript_header

        if headers not in HEADER_STYLES:
            raise ValueError(f"headers: {headers!r} is not one of {', '.join(HEADER_STYLES)}")
        sid = sequence_id or self.sequence_id
        ann = _renamed(self._annotation, self.sequence_id, sequence_id)
        first = {g.id: g.transcripts[0] for g in ann.genes.get(sid, [])}
        for n, g in enumerate(self, 1):
            # the command's --cds keeps a cut last codon's bases; Prodigal's -d writes whole codons
            body = g.translate() if protein else g.sequence() + (g._cut_codon if headers == "genet5" else "")
            tx = first[_rename(g.id, self.sequence_id, sequence_id)]
            if headers == "genet5":
                yield transcript_header(tx), body
                continue
            dna = g.sequence()  # the command's fields (writers_fasta._headers), from the API's whole codons
            fields = [f"ID=1_{n}", f"partial={int(g.partial_begin)}{int(g.partial_end)}", f"start_type={g.start_type or 'None'}"]
            fields += [f"{k}={tx.attributes[k]}" for k in ("rbs_motif", "rbs_spacer") if k in tx.attributes]
            fields.append(f"gc_cont={(dna.count('G') + dna.count('C')) / max(len(dna), 1):.3f}")
            yield (f"{sid}_{n} # {g.begin} # {g.end} # {g.strand} # {';'.join(fields)}",
                   body + ("*" if protein and not g.partial_3prime else ""))


class GeneFinder:
    """Prokaryotic gene finder (bacteria, archaea, phages, plastids).

    meta: always decode with the shipped parameter sets, per sequence (Prodigal's -p meta);
    mode: "auto" (single mode from 50 kb, meta below), "single" or "meta";
    genetic_code: an NCBI table, "auto" (11 or 4 from the genome), or None: 11, or 4 where the
    genes found under 11 read on past TGA (as `genet5 predict` without -g);
    closed: complete genes only, none cut by a sequence end or a gap (Prodigal's -c);
    min_gene_length: the shortest CDS in bases; start_codons: e.g. ("ATG", "GTG", "TTG", "CTG");
    threads: for the decoder (default: the CPUs it may use, at most 4; the genes do not depend on
    it); training: a training file (`genet5 predict -t`, save_training) to decode with."""

    def __init__(self, meta: bool = False, mode: str = "auto", genetic_code: int | str | None = None,
                 closed: bool = False, min_gene_length: int = 90, start_codons: Iterable[str] | None = None,
                 threads: int | None = None, training: str | os.PathLike | None = None):
        for name, flag in (("meta", meta), ("closed", closed)):  # closed="no" would be true
            if not isinstance(flag, (bool, np.bool_)):
                raise TypeError(f"{name}: {flag!r} is not True or False")
        if not isinstance(mode, str) or mode not in ("auto", "single", "meta"):
            raise ValueError(f"mode: {mode!r} is not one of auto, single, meta")
        if meta and mode == "single":
            raise ValueError("meta=True and mode='single' ask for both modes: give one")
        mode = "meta" if meta else mode
        if isinstance(genetic_code, str):
            if genetic_code.strip().lower() != "auto":
                raise ValueError(f"genetic_code: {genetic_code!r} is not a table number or 'auto'")
            code = 0
        elif genetic_code is None:
            code = 11
        else:
            code = _table_id("genetic_code", genetic_code, " or 'auto'")
        min_gene_length = _whole("min_gene_length", min_gene_length)
        if min_gene_length < 6:
            raise ValueError(f"min_gene_length: {min_gene_length} is shorter than a start and a stop codon")
        codons = _start_codons(start_codons, code)
        if threads is not None and _whole("threads", threads) < 1:
            raise ValueError(f"threads: {threads} must be at least 1")
        from genet5.predict.pipeline import PredictConfig

        self.mode = mode
        self._cfg = PredictConfig(domain="prokaryote", decoder="prokaryote", genetic_code=code, mode=mode, closed=closed,
                                  min_gene_length=min_gene_length, start_codons=codons, workers=threads or 0,
                                  code_from_genome=genetic_code is None)
        self.training = None  # what train() learned, or the training file's parameters (meta.ParameterSet)
        if training is not None:
            from genet5.predict.prokaryote.meta import load_training

            path = os.fspath(training)  # TypeError for anything but a path
            try:  # a missing or unreadable file is an OSError, not "not a training file"
                with open(path, "rb"):
                    pass
            except OSError as err:
                raise type(err)(err.errno, f"training file: {err.strerror}", path) from None
            trained = load_training(training)
            if mode != "auto":
                raise ValueError(f"mode {mode}: a training file's parameters decode every sequence; drop meta / mode")
            if genetic_code is not None and code != trained.code:
                raise ValueError(f"genetic_code {genetic_code}: {training} was trained under table {trained.code}")
            self._use_training(trained)

    def train(self, *sequences, sequence_ids: Iterable[str] | None = None) -> "GeneFinder":
        """Learn the genome's statistics from these sequences together (single mode, as `genet5
        predict` does on a whole genome: at least 20 kb in all), to decode it or other
        sequences of the species with later (find_genes). Returns the finder. A meta-mode finder
        (meta=True, mode="meta") decodes with the shipped parameter sets only: training it is a
        RuntimeError, as pyrodigal's; train a GeneFinder() instead."""
        from genet5.predict.prokaryote.meta import SINGLE_MIN

        if self.mode == "meta":
            raise RuntimeError("cannot train a meta-mode finder (meta=True / mode='meta' decodes with the shipped "
                               "parameter sets only): train a GeneFinder() or GeneFinder(mode='single') instead")
        records = _records(sequences, sequence_ids)
        bases = sum(len(r.seq) for r in records)
        if bases < SINGLE_MIN:
            raise GenomeFormatError("<train>", None, f"{bases:,} bp is too little to train on (needs >= {SINGLE_MIN:,} bp): "
                                    "give the whole genome, or decode with GeneFinder(meta=True)")
        cfg = replace(self._cfg, mode="single", write_training=True, training_set=None)
        _, _, stats = _predict(records, cfg, "<train>")
        self._use_training(stats.trained)
        return self

    def save_training(self, path: str | os.PathLike) -> None:
        """Write what train() learned as a training file (`genet5 predict -t` reads it)."""
        if self.training is None:
            raise ValueError("nothing to save: train() first")
        from genet5 import __version__
        from genet5.atomic import OutputSet
        from genet5.predict.prokaryote.meta import save_training

        folder = os.path.dirname(os.path.abspath(os.fspath(path)))
        if not os.path.isdir(folder):  # else safetensors names its temporary file there
            raise FileNotFoundError(2, f"no such folder: {folder}", os.fspath(path))
        with OutputSet() as outputs:  # the whole file or none
            save_training(outputs.take(path), self.training, {"genet5": __version__, "from": "GeneFinder.train"})

    def find_genes(self, sequence, sequence_id: str | None = None) -> Genes:
        """The genes of one sequence (str, bytes, bytearray, Bio.Seq, Bio.SeqRecord): with the training's
        parameters where the finder was trained, else as the finder's mode says."""
        if isinstance(sequence, (list, tuple, dict)):
            raise TypeError(f"find_genes takes one sequence ({_ACCEPTED}), not a {type(sequence).__name__}: "
                            "decode several with find_genes_many")
        records = _records([sequence], [sequence_id] if sequence_id is not None else None)
        return self._decode(records)[records[0].id]

    def find_genes_many(self, sequences, sequence_ids: Iterable[str] | None = None) -> dict[str, Genes]:
        """The genes of several sequences decoded as one genome (`genet5 predict` on a FASTA of
        them: single mode trains one model on all, meta mode picks a parameter set per
        sequence), by sequence ID. `sequences`: a dict of ID to sequence, SeqRecords, or
        sequences with `sequence_ids`. For a metagenome's many contigs this one call, not a
        loop of find_genes: each call has ~15 ms of set-up, and meta mode on 1 Mb or more of
        contigs spreads them over processes."""
        if isinstance(sequences, dict):
            sequence_ids, sequences = list(sequences), list(sequences.values())
        elif _is_sequence(sequences) or not isinstance(sequences, Iterable):
            raise TypeError(f"find_genes_many takes a dict of ID to sequence or several sequences ({_ACCEPTED}), "
                            f"not a {type(sequences).__name__}: decode one with find_genes")
        return self._decode(_records(list(sequences), sequence_ids))

    def _use_training(self, trained) -> None:
        self.training = trained
        self._cfg = replace(self._cfg, training_set=trained, mode="auto", genetic_code=trained.code, code_from_genome=False)

    def _decode(self, records: list[FastaRecord]) -> dict[str, Genes]:
        ann, lengths, _ = _predict(records, self._cfg, records[0].id if len(records) == 1 else "<sequences>")
        return {r.id: _genes_of(ann, r, lengths[r.id]) for r in records}


_ACCEPTED = "a str, bytes, bytearray, memoryview, Bio.Seq.Seq or Bio.SeqRecord.SeqRecord"


def _is_sequence(s) -> bool:
    """One sequence as the API takes it: text, bytes (any buffer), a Biopython Seq or SeqRecord."""
    if isinstance(s, (str, bytes, bytearray, memoryview)):
        return True
    if isinstance(s, np.ndarray):  # bytes in a numpy array (uint8 or S1), one dimension
        return s.ndim == 1 and s.dtype in (np.uint8, np.dtype("S1"))
    seq_mod, rec_mod = sys.modules.get("Bio.Seq"), sys.modules.get("Bio.SeqRecord")  # loaded if s is one
    return bool((seq_mod is not None and isinstance(s, (seq_mod.Seq, seq_mod.MutableSeq)))
                or (rec_mod is not None and isinstance(s, rec_mod.SeqRecord)))


def _raw_bases(s, i: int) -> bytes:
    seq = getattr(s, "seq", s)  # a SeqRecord's sequence (or any record with .seq)
    if isinstance(seq, (bytes, bytearray, memoryview)):
        return bytes(seq)
    if isinstance(seq, np.ndarray) and seq.dtype in (np.uint8, np.dtype("S1")):
        return seq.tobytes()  # a byte array (numpy), as any buffer
    if isinstance(seq, str) or _is_sequence(seq):
        return str(seq).encode("utf-8", errors="surrogateescape")  # a bad letter is shown whole
    raise TypeError(f"sequence {i + 1}: {type(s).__name__!r} is not a sequence type: give {_ACCEPTED}")


def _whole(name: str, value) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name}: {value!r} is not a whole number (int)")
    return int(value)


def _table_id(name: str, value, also: str = "") -> int:
    from genet5.genome.codes import known_codes

    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name}: {value!r} is not an NCBI translation table number (int){also}")
    if int(value) not in known_codes():
        raise ValueError(f"{name}: {value} is not an NCBI translation table")
    return int(value)


def _start_codons(start_codons, code: int) -> tuple[str, ...] | None:
    """The start codons as the decoder takes them; a stop codon of the table (of 11 and 4 where
    the table is chosen from the genome) is refused: no gene could start there."""
    from genet5.genome.codes import genetic_code

    if start_codons is None:
        return None
    if isinstance(start_codons, (str, bytes)) or not isinstance(start_codons, Iterable):
        raise TypeError(f"start_codons: {start_codons!r} is not a list of codons such as ('ATG', 'GTG', 'TTG')")
    given = list(start_codons)
    if not all(isinstance(c, str) for c in given):
        raise TypeError(f"start_codons: {start_codons!r} is not a list of codons such as ('ATG', 'GTG', 'TTG')")
    codons = tuple(c.strip().upper() for c in given)
    if not codons or any(len(c) != 3 or set(c) - set("ACGT") for c in codons):
        raise ValueError(f"start_codons: {start_codons!r} is not a list of codons such as ('ATG', 'GTG', 'TTG')")
    for table in (code,) if code not in (0, 11) else (11, 4):  # 11 may become 4 (genetic_code None or 'auto')
        stops = [c for c in codons if c.encode() in genetic_code(table).stops]
        if stops:
            raise ValueError(f"start_codons: {', '.join(stops)} is a stop codon under translation table {table}")
    return codons


def _check_width(width) -> None:
    if _whole("width", width) < 1:
        raise ValueError(f"width: {width} must be at least 1 (letters a line)")


def _check_id(sequence_id) -> None:
    """A writer's sequence_id, checked as find_genes checks one (fasta.record_from_text)."""
    if sequence_id is None:
        return
    if not isinstance(sequence_id, str):
        raise TypeError(f"sequence_id: {sequence_id!r} is not a str")
    if not sequence_id or sequence_id.split(None, 1)[0] != sequence_id:
        raise GenomeFormatError(repr(sequence_id), None, "a sequence ID must be one word, without spaces")


def _translate(cds: str, table: int, first_as_met: bool, strict: bool) -> str:
    """The CDS read with another table, or (strict False) codons with an N read where every base
    there gives one amino acid (pyrodigal's strict=False)."""
    from genet5.genome.codes import genetic_code

    gc = genetic_code(table)
    protein = gc.translate(cds.encode(), first_as_met=first_as_met)
    if strict or "X" not in protein:
        return protein
    out = list(protein)
    for k, aa in enumerate(protein):
        codon = cds[3 * k : 3 * k + 3]
        if aa == "X" and set(codon) <= set("ACGTN"):
            reads = {gc.codon_to_aa.get(c.encode()) for c in _expand(codon)}
            if len(reads) == 1 and None not in reads:
                out[k] = reads.pop()
    return "".join(out)


def _expand(codon: str) -> list[str]:
    out = [""]
    for b in codon:
        out = [o + x for o in out for x in ("ACGT" if b == "N" else b)]
    return out


def _records(sequences, ids) -> list[FastaRecord]:
    ids = list(ids) if ids is not None else None
    if ids is not None and len(ids) != len(sequences):
        raise ValueError(f"{len(ids)} sequence IDs for {len(sequences)} sequences")
    if not sequences:
        raise ValueError("no sequence given")
    out = []
    for i, s in enumerate(sequences):
        raw = _raw_bases(s, i)
        sid = ids[i] if ids is not None else getattr(s, "id", None) or f"seq{i + 1}"
        out.append(record_from_text(str(sid), raw))
    if len({r.id for r in out}) != len(out):
        raise ValueError("sequence IDs repeat: give each sequence its own")
    return out


def _predict(records: list[FastaRecord], cfg, name: str):
    from genet5.predict.pipeline import predict_genome

    try:
        return predict_genome(None, name, cfg, records=iter(records))
    except GenomeFormatError as err:  # the decoder's advice names the command's options: say the API's
        said = _api_words(err.problem)
        if said == err.problem:
            raise
        raise GenomeFormatError(err.path, err.line, said) from None


_CLI_WORDS = [  # the command's options in the decoder's messages -> the API's arguments
    (re.compile(r"use --meta \(--mode meta\) or --mode auto"),
     "use GeneFinder(meta=True) (mode='meta'), or mode='auto'"),
    (re.compile(r"--meta \(--mode meta\)|--meta\b|--mode meta\b"), "GeneFinder(meta=True)"),
    (re.compile(r"--mode (auto|single)\b"), r"GeneFinder(mode='\1')"),
    (re.compile(r"(?<![\w-])-g (\d+)"), r"genetic_code=\1"),
]


def _api_words(problem: str) -> str:
    for pattern, words in _CLI_WORDS:
        problem = pattern.sub(words, problem)
    return problem


def _genes_of(ann: Annotation, rec: FastaRecord, length: int) -> Genes:
    from genet5.genome.extract import SequenceDict, cds_sequence, protein_sequence
    from genet5.genome.validate import code_for

    source = SequenceDict({rec.id: rec.seq})
    own = Annotation(source=ann.source)
    own.genetic_codes[rec.id] = ann.genetic_codes.get(rec.id, 11)
    genes = []
    for g in sorted(ann.genes.get(rec.id, []), key=lambda g: (g.start, g.end)):
        own.add_gene(g)  # as predict writes it (a cut gene to the edge); the Gene: its whole codons
        tx: Transcript = _whole_codons(g.transcripts[0])
        nucleotides = cds_sequence(tx, source).decode()
        to_edge = cds_sequence(g.transcripts[0], source).decode() if tx is not g.transcripts[0] else nucleotides
        code = code_for(tx, ann, 11)
        left_cut, right_cut = (tx.start_partial, tx.end_partial) if tx.strand != "-" else (tx.end_partial, tx.start_partial)
        motif = tx.attributes.get("rbs_motif")
        spacer = tx.attributes.get("rbs_spacer")
        genes.append(Gene(
            sequence_id=rec.id, id=g.id, begin=tx.start, end=tx.end, strand=-1 if tx.strand == "-" else 1,
            partial_begin=bool(left_cut), partial_end=bool(right_cut),
            start_type="Edge" if tx.start_partial else tx.attributes.get("start_codon", ""),
            rbs_motif=None if motif in (None, "None") else motif, rbs_spacer=None if spacer in (None, "None") else spacer,
            score=float(tx.attributes.get("score", "nan")), translation_table=code.id,
            _nucleotides=nucleotides, _protein=protein_sequence(tx, source, code), _cut_codon=to_edge[len(nucleotides):]))
    return Genes(genes, rec.id, own, length)


def _whole_codons(tx: Transcript) -> Transcript:
    """A cut CDS from its first whole codon to its last (pyrodigal's begin / end): the phase bases
    at a cut 5' end and a cut codon's bases at a cut 3' end left out; whole CDSs as they are."""
    head = tx.phase
    tail = (tx.cds_length - head) % 3
    if not (head or tail) or not tx.cds:
        return tx

    def trim(segs: list[Segment]) -> list[Segment]:
        segs = list(segs)
        first, last = segs[0], segs[-1]
        plus = first.strand != "-"
        segs[0] = replace(first, start=first.start + head) if plus else replace(first, end=first.end - head)
        last = segs[-1]
        segs[-1] = replace(last, end=last.end - tail) if plus else replace(last, start=last.start + tail)
        return segs

    cds = trim(tx.cds)
    if any(s.length < 1 for s in cds):
        return tx
    exons = trim(tx.exons) if tx.exons else []
    return replace(tx, cds=cds, exons=exons, phase=0)


def _rename(gene_id: str, old: str, new: str | None) -> str:
    return gene_id if not new or new == old else gene_id.replace(f"_{old}_", f"_{new}_", 1)


def _renamed(ann: Annotation, old: str, new: str | None) -> Annotation:
    """The annotation with its sequence (and gene IDs) under another name."""
    if not new or new == old:
        return ann
    out = Annotation(source=ann.source)
    out.genetic_codes[new] = ann.genetic_codes.get(old, 11)
    for g in ann.genes.get(old, []):
        gid = _rename(g.id, old, new)
        txs = [replace(t, id=_rename(t.id, old, new), gene_id=gid, seqid=new) for t in g.transcripts]
        out.add_gene(replace(g, id=gid, seqid=new, transcripts=txs))
    return out


def _write_fasta(fh: IO[str], records: Iterable[tuple[str, str]], width: int) -> None:
    for name, seq in records:
        fh.write(f">{name}\n")
        for i in range(0, len(seq), width):
            fh.write(seq[i : i + width] + "\n")
