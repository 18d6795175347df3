"""Commands on genomes and annotations: `genet5 stats`, `genet5 eval`, `genet5 convert`."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Optional

import typer
from rich.console import Console
from rich.table import Table

from genet5.atomic import OutputSet
from genet5.cli.app import app, check_genetic_code, check_outputs, stdout_is_output
from genet5.evaluate.metrics import LEVELS, Counts

console = Console()

_LEVEL_NAMES = {
    "nucleotide": "nucleotide",
    "exon": "exon (CDS segment)",
    "transcript": "transcript (CDS chain)",
    "gene": "gene",
    "stop": "stop codon",
    "start_stop": "exact start+stop",
}


def _report_warnings(ann) -> None:
    if ann.warnings:
        console.print(
            f"[yellow]note:[/] {Path(ann.source).name}: {len(ann.warnings)} rows name a Parent that has no row "
            f"(first: {ann.warnings[0]}); use --strict to reject",
            highlight=False,
        )


def _cds_seqids(ann) -> set[str]:
    """Sequences on which the annotation has a CDS (what eval scores)."""
    return {sid for sid, genes in ann.genes.items() if any(t.cds for g in genes for t in g.transcripts)}


def _report_unscorable(reference: Path, prediction: Path, ref_ann, pred_ann) -> None:
    """Why an eval scores zero where the cause is in the files, not the genes: a side without any
    CDS, or sequence names the two sides do not share (chr1 against 1, an accession's version)."""
    ref_ids, pred_ids = _cds_seqids(ref_ann), _cds_seqids(pred_ann)
    for path, ids in dict(((reference, ref_ids), (prediction, pred_ids))).items():  # a file given twice: once
        if not ids:
            console.print(f"[yellow]note:[/] {path.name} holds no CDS: every level here scores CDS "
                          "(gene, mRNA and exon rows alone cannot be scored)", highlight=False)
    if ref_ids and pred_ids and not ref_ids & pred_ids:
        show = lambda ids: ", ".join(sorted(ids)[:3]) + (", ..." if len(ids) > 3 else "")  # noqa: E731
        console.print(f"[yellow]note:[/] the reference and the prediction share no sequence name (reference: "
                      f"{show(ref_ids)}; prediction: {show(pred_ids)}): name the sequences alike on both sides",
                      highlight=False)


def _write_json(path: Path, obj: dict) -> None:
    with OutputSet() as outputs, outputs.open(path) as fh:  # "-": standard output
        json.dump(obj, fh, indent=2)
        fh.write("\n")


def _prepare_outputs(inputs: list, outputs: dict, genetic_code: int | None = None) -> None:
    """Before any work: refuse outputs that clobber an input or each other, cannot be written, or
    a bad --genetic-code; with an output on standard output, the tables and notes go to stderr."""
    check_genetic_code(genetic_code)
    check_outputs(inputs, outputs)
    console.stderr = stdout_is_output(*outputs.values())


# eval without --genome says so where this share of the predicted 3' ends (or more) miss a
# reference one by a codon: the stop-codon conventions differ, and most genes would score wrong
STOPS_APART_SHARE = 0.2


@app.command()
def eval(  # noqa: A001 - the command is called eval
    reference: Path = typer.Argument(..., help="Reference annotation (GFF3 or GTF, plain or gzip)."),
    prediction: Path = typer.Argument(..., help="Predicted annotation (GFF3 or GTF, plain or gzip)."),
    genome: Optional[Path] = typer.Option(None, "--genome", "-g", help="Genome FASTA: makes stop-codon inclusion consistent and checks coordinates."),
    genetic_code: Optional[int] = typer.Option(None, "--genetic-code", help="NCBI table for every sequence (default: transl_table from the reference, else 1)."),
    json_out: Optional[Path] = typer.Option(None, "--json", help="Write the scores as JSON to this file."),
    per_sequence: bool = typer.Option(False, "--per-sequence", help="Also print one table row per sequence."),
    strict: bool = typer.Option(False, "--strict", help="Reject dangling Parent references instead of warning."),
) -> None:
    """Score a predicted annotation against a reference (CDS-based: nucleotide, exon, transcript, gene, stop, start+stop)."""
    from genet5.evaluate.compare import compare_files

    _prepare_outputs([reference, prediction, genome], {"--json": json_out}, genetic_code)
    t0 = time.perf_counter()
    comparison = compare_files(reference, prediction, genome, genetic_code, strict=strict)
    result = comparison.result
    seconds = time.perf_counter() - t0
    for ann in (comparison.reference, comparison.prediction):
        _report_warnings(ann)
    table = Table(title=f"{prediction.name} vs {reference.name}", title_justify="left")
    for col in ("level", "sn", "pr", "F1", "ref", "pred"):
        table.add_column(col, justify="left" if col == "level" else "right")
    for level in LEVELS:
        c: Counts = result.total[level]
        table.add_row(_LEVEL_NAMES[level], f"{c.sn:.4f}", f"{c.pr:.4f}", f"{c.f1:.4f}", str(c.n_ref), str(c.n_pred))
    console.print(table)
    _report_unscorable(reference, prediction, comparison.reference, comparison.prediction)
    if per_sequence:
        seq_table = Table(title="per sequence (F1)", title_justify="left")
        seq_table.add_column("sequence")
        for level in LEVELS:
            seq_table.add_column(level, justify="right")
        for seqid, counts in result.per_sequence.items():
            seq_table.add_row(seqid, *(f"{counts[lv].f1:.4f}" for lv in LEVELS))
        console.print(seq_table)
    console.print(
        f"dropped (CDS length not a multiple of 3): reference {result.dropped_ref}, prediction {result.dropped_pred}; "
        f"stop codons added from the genome: reference {result.stops_added_ref}, prediction {result.stops_added_pred}; "
        f"genes split into loci (disjoint CDS, counted one gene per locus): reference {result.genes_split_ref}, "
        f"prediction {result.genes_split_pred}; "
        f"{seconds:.2f} s",
        highlight=False,
    )
    n_pred_stops = result.total["stop"].n_pred
    if genome is None and result.stops_codon_apart >= max(3, STOPS_APART_SHARE * n_pred_stops):
        console.print(f"note: {result.stops_codon_apart:,} of {n_pred_stops:,} predicted CDS end a codon away from a "
                      "reference CDS end: one file leaves its stop codons out of the CDS (GTF does); give the genome "
                      "(--genome) to score them alike", highlight=False, soft_wrap=True)
    if json_out is not None:
        out = result.as_dict()
        out["reference"], out["prediction"] = str(reference), str(prediction)
        out["genome"] = str(genome) if genome else None
        _write_json(json_out, out)


@app.command()
def stats(
    genome: Path = typer.Argument(..., help="Genome FASTA (plain, gzip or bgzip)."),
    annotation: Optional[Path] = typer.Argument(None, help="Annotation (GFF3 or GTF); optional."),
    genetic_code: Optional[int] = typer.Option(None, "--genetic-code", help="NCBI table (default: transl_table from the annotation, else 1)."),
    json_out: Optional[Path] = typer.Option(None, "--json", help="Write the statistics as JSON to this file."),
    strict: bool = typer.Option(False, "--strict", help="Reject dangling Parent references instead of warning."),
) -> None:
    """What to check first: sequences, size, GC, masking, genes, transcripts and CDS validity."""
    from genet5.genome.stats import genome_stats

    _prepare_outputs([genome, annotation], {"--json": json_out}, genetic_code)
    t0 = time.perf_counter()
    report = genome_stats(genome, annotation, genetic_code, strict=strict)
    seconds = time.perf_counter() - t0
    seq = report["sequences"]
    table = Table(title=f"{genome.name}", title_justify="left", show_header=False)
    table.add_column("what")
    table.add_column("value", justify="right")
    table.add_row("sequences", f"{seq['count']:,}")
    table.add_row("total length (bp)", f"{seq['total_bp']:,}")
    table.add_row("longest / shortest (bp)", f"{seq['longest_bp']:,} / {seq['shortest_bp']:,}")
    table.add_row("GC (of A/C/G/T)", f"{100 * seq['gc_fraction']:.2f}%")
    table.add_row("N (incl. IUPAC mapped to N)", f"{seq['n_bp']:,}")
    table.add_row("IUPAC ambiguity letters", f"{seq['iupac_bp']:,}")
    table.add_row("soft-masked (lower case)", f"{100 * seq['masked_fraction']:.2f}%")
    if annotation is not None:
        ann = report["annotation"]
        table.add_row("genes (coding / all)", f"{ann['coding_genes']:,} / {ann['genes']:,}")
        table.add_row("transcripts (coding / all)", f"{ann['coding_transcripts']:,} / {ann['transcripts']:,}")
        table.add_row("pseudogene CDS skipped", f"{ann['validation']['pseudo_skipped']:,}")
        v = ann["validation"]
        table.add_row("CDS checked / valid", f"{v['checked']:,} / {v['valid']:,} ({100 * v['valid_fraction']:.2f}%)")
        for kind, n in v["failures"].items():
            if n:
                examples = ", ".join(v["examples"].get(kind, [])[:3])
                table.add_row(f"  {kind.replace('_', ' ')}", f"{n:,}  (e.g. {examples})")
        table.add_row("partial CDS / unusual order", f"{v['partial']:,} / {v['unusual_order']:,}")
        table.add_row("genetic code(s)", ", ".join(str(c) for c in ann["genetic_codes"]) or "1 (default)")
    console.print(table)
    console.print(f"{seconds:.2f} s", highlight=False)
    if json_out is not None:
        _write_json(json_out, report)


@app.command()
def convert(
    annotation: Path = typer.Argument(..., help="Input annotation: GFF3, GTF or GenBank flat file (plain or gzip)."),
    output: Path = typer.Option(..., "--output", "-o", help="Output file."),
    to: str = typer.Option("gff3", "--to", help="Output format: gff3, gtf, or genbank (the sequences with their gene and CDS features; needs --genome)."),
    genome: Optional[Path] = typer.Option(None, "--genome", "-g", help="Genome FASTA: sequence lengths for ##sequence-region headers and a coordinate check."),
    strict: bool = typer.Option(False, "--strict", help="Reject dangling Parent references instead of warning."),
    proteins: Optional[Path] = typer.Option(None, "--proteins", help="Also write protein FASTA (needs --genome)."),
    cds: Optional[Path] = typer.Option(None, "--cds", help="Also write CDS nucleotide FASTA (needs --genome)."),
    genetic_code: Optional[int] = typer.Option(None, "--genetic-code", help="NCBI table for --proteins where the annotation gives no transl_table (default 1)."),
) -> None:
    """Convert an annotation into clean GFF3 (gene -> mRNA -> exon + CDS), GTF or GenBank."""
    from genet5.genome.fasta import Genome
    from genet5.genome.gff3_writer import write_gff3_handle
    from genet5.genome.readers import load_annotation
    from genet5.genome.validate import check_sequences

    from genet5.cli.app import fail

    if to not in ("gff3", "gtf", "genbank"):
        fail(f"--to must be gff3, gtf or genbank, not {to!r}")
    if (proteins or cds or to == "genbank") and genome is None:
        fail("--proteins, --cds and --to genbank need --genome")
    _prepare_outputs([annotation, genome], {"--output": output, "--proteins": proteins, "--cds": cds}, genetic_code)
    code = genetic_code if genetic_code is not None else 1
    ann = load_annotation(annotation, strict=strict)
    lengths = None
    if genome is not None:
        g = Genome(genome)
        check_sequences(ann, g)
        lengths = {k: v for k, v in g.lengths.items() if k in ann.genes}
    if ann.warnings:
        console.print(f"[yellow]{len(ann.warnings)} warnings[/] while reading {annotation.name}; first: {ann.warnings[0]}", highlight=False)
    with OutputSet() as outputs:  # every file, or none ("-": standard output; *.gz: compressed)
        with outputs.open(output) as fh:
            if to == "gff3":
                write_gff3_handle(fh, ann, lengths)
            elif to == "gtf":
                from genet5.genome.gtf_writer import write_gtf_handle

                # with the genome, stop_codon rows only over real stops
                write_gtf_handle(fh, ann, g if genome is not None else None, default_code=code)
            else:
                from genet5.genome.genbank_writer import write_genbank_handle

                write_genbank_handle(fh, ann, g, default_code=code, tool="genet5 convert", order=list(g.lengths), predicted=False)
        if proteins or cds:
            from genet5.genome.writers_fasta import write_cds, write_proteins

            if proteins:
                with outputs.open(proteins, "wb") as fh:
                    write_proteins(fh, ann, g, default_code=code)
            if cds:
                with outputs.open(cds, "wb") as fh:
                    write_cds(fh, ann, g)
    console.print(f"wrote {ann.n_genes} genes to {output}", highlight=False)
    if proteins:
        console.print(f"wrote proteins to {proteins}", highlight=False)
    if cds:
        console.print(f"wrote CDS to {cds}", highlight=False)
