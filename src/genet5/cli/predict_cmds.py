"""`genet5 predict`: annotate a genome with a GeneT5 model."""

from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import Optional

import typer
from genet5.cli.app import app, fail
from genet5.errors import UserError


def _decoder_help() -> str:
    from genet5.predict.decoders import DECODERS, DOMAINS, default_decoder

    defaults = ", ".join(f"{default_decoder(d)} for {d}s" for d in DOMAINS)
    return (f"Gene-structure decoder (default: {defaults}): "
            + "; ".join(f"{e.name} ({'/'.join(e.domains)}): {e.help}" for e in DECODERS.values()) + ".")


def _progress_bar():
    """predict's progress bar on stderr: bases done and bp/s (the total is not known ahead)."""
    from rich.console import Console
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    return Progress(TextColumn("[bold]predict"), BarColumn(), TextColumn("{task.completed:,.0f} bp"),
                    TextColumn("{task.fields[rate]}"), TimeElapsedColumn(),
                    console=Console(stderr=True), transient=True)  # an error leaves its one line alone


# what --output holds when --format is not given, by the file's extension (a .gtf or .gbk file
# holding GFF3 would mislead whatever reads it next)
_FORMAT_OF_SUFFIX = {".gtf": "gtf", ".gbk": "gbk", ".gb": "gbk", ".gbff": "gbk", ".genbank": "gbk", ".sco": "sco"}


def _format_of(output: Path) -> str:
    name = Path(str(output))
    if name.suffix.lower() == ".gz":  # x.gbk.gz: GenBank, compressed
        name = name.with_suffix("")
    return _FORMAT_OF_SUFFIX.get(name.suffix.lower(), "gff")


def _stdin_has_data() -> bool:
    """Standard input is a pipe or a file with something in it (not a terminal, not empty). A
    pipe whose writer has not written yet is waited for, as Prodigal waits for it."""
    try:
        if sys.stdin is None or sys.stdin.isatty():
            return False
        buffer = sys.stdin.buffer
        return bool(buffer.peek(1)) if hasattr(buffer, "peek") else False
    except (AttributeError, OSError, ValueError):  # closed, or a stand-in without a buffer
        return False


def _model_label(path: Path) -> str:
    """A model's name for the GFF3 header: its folder, with the run's name where the folder is a
    training run's generic `model` (RUN/model)."""
    path = Path(path)
    return f"{path.parent.name}/{path.name}" if path.name == "model" and path.parent.name else path.name


def _parse_codons(text: Optional[str], table: int) -> Optional[tuple[str, ...]]:
    """--start-codons as codons; one a stop of `table` (0, auto: a stop of 4 and of 11) is refused."""
    if not text:
        return None
    from genet5.genome.codes import genetic_code

    codons = tuple(c.strip().upper() for c in text.split(",") if c.strip())
    bad = [c for c in codons if len(c) != 3 or set(c) - set("ACGT")]
    if bad or not codons:
        fail(f"--start-codons: {', '.join(bad) or text!r} is not a comma-separated list of codons such as ATG,GTG,TTG")
    stops = [c for c in codons if genetic_code(table or 4).is_stop(c.encode())]
    if stops:
        fail(f"--start-codons: {', '.join(stops)} {'is a stop codon' if len(stops) == 1 else 'are stop codons'} "
             f"of genetic code {table or 'auto (11 or 4)'}")
    return codons


# An ID prefix must stay one word in FASTA headers and one value in GFF3 attributes
_BAD_ID_CHARS = re.compile(r"[\s;=,\x00-\x1f\x7f]")


@app.command()
def predict(
    genome: Optional[Path] = typer.Argument(None, show_default=False, help="Genome FASTA (plain, gzip or bgzip; a GenBank or EMBL flat file's sequences too), any number of sequences; - reads it from standard input."),
    input_file: Optional[Path] = typer.Option(None, "--input", "-i", show_default=False, help="The genome, named as Prodigal's -i names it (instead of GENOME)."),
    output: Optional[Path] = typer.Option(None, "--output", "-o", help="Output file: GFF3, or what --format names. - or not given: standard output, as Prodigal writes (not given with -t naming a new training file: only that file, as Prodigal's training run)."),
    output_format: Optional[str] = typer.Option(None, "--format", "-f", help="What --output holds: gff (GFF3), gtf, gbk (GenBank: the sequences with their gene and CDS features), or sco (Prodigal's simple coordinates, >N_LEFT_RIGHT_STRAND per gene, as Prokka reads them; prokaryotes); Prodigal's -f, whose own default is gbk. Default: read from --output's name (.gtf; .gbk, .gb, .gbff; .sco), else GFF3."),
    model: Optional[Path] = typer.Option(None, "--model", "-m", help="Model directory, or a bundled model's name (default: the bundled genet5-cpu model; with --decoder seq2seq a seq2seq checkpoint, default the bundled genet5-seq2seq)."),
    genetic_code_text: Optional[str] = typer.Option(None, "--genetic-code", "-g", show_default=False, help="NCBI translation table (11 bacteria/archaea/plastids, 4 Mycoplasma, 25, 1 standard), or auto: 11 or 4 chosen from the genome (prokaryotes). Default: 1 for --domain eukaryote (or a eukaryote --decoder), 11 otherwise, or 4 where the genes found under 11 read on past TGA (a Mycoplasma: decoded again, and said; in meta mode chosen per sequence, as Prodigal -p meta does)."),
    domain: str = typer.Option("auto", "--domain", help="prokaryote (bacteria, archaea, phages, plastids), eukaryote, or auto: the domain of an explicit --decoder, else eukaryote with -g 1, prokaryote with another table, else (also with -g auto) the genome's own: eukaryote where introns break its long ORFs or its genes lie far apart (organelles read as eukaryotes: give --domain there)."),
    decoder: Optional[str] = typer.Option(None, "--decoder", help=_decoder_help()),
    mode: str = typer.Option("auto", "--mode", "-p", help="Prokaryote: single (the genome teaches itself its statistics; >= 20 kb), meta (parameter sets from training genomes, per sequence: plasmids, viruses, metagenome contigs), or auto: meta below 50 kb."),
    meta: bool = typer.Option(False, "--meta", help="Prokaryote: the same as --mode meta (Prodigal's -p meta)."),
    training: Optional[Path] = typer.Option(None, "--training", "-t", help="Prodigal's -t. A training file that exists: decode with the parameters it holds (another genome of the species taught them; for plasmids, contigs, bins too small to teach themselves). One that does not: decode this genome in single mode and write what it taught itself there."),
    closed: bool = typer.Option(False, "--closed", "-c", help="Prokaryote: complete genes only: none runs off a sequence end or into a gap of N (Prodigal's -c, closed ends; for finished genomes). By default such genes are written partial."),
    network: bool = typer.Option(False, "--network/--no-network", help="Prokaryote: add the model's per-base evidence to the self-trained statistics (off by default: it adds nothing on the validation genomes and costs ~10x the time, docs/benchmarks.md; for ablations)."),
    species: str = typer.Option("auto", "--species", help="Eukaryote (selftrained): the training species whose chains are mixed into the genome's own (a short input leans on them): auto (the one whose coding chain best fits the genome's long ORFs), none, or a name: yeast, fly, arabidopsis, human."),
    softmask: bool = typer.Option(True, "--softmask/--no-softmask", help="Eukaryote (selftrained): lower-case (soft-masked) bases count as repeats: genes mostly inside repeats are dropped, as are those made of the genome's own repeated sequence (docs/benchmarks.md)."),
    min_gene_length: int = typer.Option(90, "--min-gene-length", help="Shortest CDS to report (bases, stop included)."),
    id_prefix: str = typer.Option("genet5", "--id-prefix", help="Prefix of gene IDs."),
    start_codons: Optional[str] = typer.Option(None, "--start-codons", help="Comma-separated start codons (default: the code's starts; ATG only for code 1)."),
    learn_starts: bool = typer.Option(True, "--learn-starts/--no-learn-starts", help="Refine start codons with a start model learned on the genome itself (Prodigal-style)."),
    proteins: Optional[Path] = typer.Option(None, "--proteins", "-a", help="Also write protein FASTA (Prodigal's -a)."),
    cds: Optional[Path] = typer.Option(None, "--cds", "-d", help="Also write CDS nucleotide FASTA (Prodigal's -d)."),
    fasta_headers: str = typer.Option("genet5", "--fasta-headers", help="Headers of --proteins / --cds: genet5 (>TRANSCRIPT gene=GENE SEQID:START-END(STRAND)) or prodigal (>SEQID_N # START # END # 1|-1 # ID=..;partial=..;..., as CheckM, GTDB-Tk and other tools made for Prodigal's output read them)."),
    gtf: Optional[Path] = typer.Option(None, "--gtf", help="Also write GTF."),
    genbank: Optional[Path] = typer.Option(None, "--genbank", help="Also write a GenBank flat file: the sequences with gene and CDS features (locus tags, partial ends, translations), as Artemis or antiSMASH read it (Prodigal's -f gbk)."),
    bedgraph: Optional[str] = typer.Option(None, "--bedgraph", help="Also write per-base probability tracks PREFIX.coding.bedgraph and PREFIX.intron.bedgraph."),
    batch_size: int = typer.Option(4, "--batch-size", help="Windows per forward pass."),
    threads: Optional[int] = typer.Option(None, "--threads", "-j", help="CPU threads for torch and the prokaryote decoder, and processes of the eukaryote decoder and of meta mode on many contigs (default: torch's choice; the prokaryote decoder: the CPUs it may use, at most 4; the eukaryote decoder: the CPUs other jobs leave idle, at most 4; the genes do not depend on it)."),
    device: str = typer.Option("auto", "--device", help="auto (GPU when present), cpu or cuda."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bar and no summary line (as Prodigal's -q); a note still where the genome changed what the command asked for (the genetic code without -g)."),
) -> None:
    """Predict protein-coding genes of a genome and write them as GFF3."""
    from genet5.model_paths import BUNDLED_GENE_MODEL, resolve_model_path
    from genet5.predict.pipeline import PredictConfig, predict_genome

    from genet5.cli.app import check_genetic_code

    if genome is not None and input_file is not None:
        fail(f"the genome is given twice ({genome} and -i {input_file}): give one")
    genome = genome if genome is not None else input_file
    if genome is None and _stdin_has_data():  # Prodigal reads standard input without -i: `prodigal < genome.fna`
        genome = Path("-")
    if genome is None:
        fail("no genome given: genet5 predict GENOME -o OUT (or -i GENOME, as Prodigal's; - or a pipe reads standard input)")
    output_format = (output_format or (_format_of(output) if output is not None else "gff")).strip().lower()
    if output_format not in ("gff", "gff3", "gtf", "gbk", "genbank", "sco"):
        fail(f"--format: {output_format!r} is not one of gff, gtf, gbk, sco")
    output_format = {"gff3": "gff", "genbank": "gbk"}.get(output_format, output_format)
    for flag, path in (("--output", output), ("--training", training), ("--proteins", proteins), ("--cds", cds),
                       ("--gtf", gtf), ("--genbank", genbank), ("--bedgraph", bedgraph)):
        # `--gtf -q` takes -q as the file name: say so rather than write a file called "-q"
        if path is not None and str(path).startswith("-") and str(path) != "-":
            fail(f"{flag}: {str(path)!r} looks like an option, not a file name: give the file after {flag}")
    for flag, path in (("--training", training), ("--bedgraph", bedgraph)):  # each names a file of its own, read back later
        if path is not None and str(path) == "-":
            fail(f"{flag} -: standard output is for --output, --proteins, --cds, --gtf or --genbank; give {flag} a file name")
    bad = _BAD_ID_CHARS.search(id_prefix)
    if bad:
        fail(f"--id-prefix {id_prefix!r}: {bad.group()!r} would split the gene IDs in FASTA headers or GFF3 attributes; "
             "use letters, digits, '_', '-' or '.'")
    if model is not None and str(model).startswith("-"):
        fail(f"-m/--model: {str(model)!r} looks like an option, not a model: -m names a model here "
             "(Prodigal's -m, N runs masked, is always on: drop it)")
    genetic_code: int | None = None  # not given: 1 for eukaryotes, 11 otherwise (once the domain is known)
    if genetic_code_text is None:
        pass
    elif genetic_code_text.strip().lower() == "auto":
        genetic_code = 0
    else:
        try:
            genetic_code = int(genetic_code_text)
        except ValueError:
            fail(f"--genetic-code: {genetic_code_text!r} is not a table number or auto")
        check_genetic_code(genetic_code)
    if meta:
        if mode not in ("auto", "meta"):
            fail(f"--meta and --mode {mode} contradict each other: give one")
        mode = "meta"
    if mode not in ("auto", "single", "meta"):
        fail(f"--mode: {mode!r} is not one of auto, single, meta")
    if domain not in ("auto", "prokaryote", "eukaryote"):
        fail(f"--domain: {domain!r} is not one of auto, prokaryote, eukaryote")
    if species not in ("auto", "none"):
        from genet5.predict.eukaryote.priors import load_priors

        known = [p.name for p in load_priors()]
        if species not in known:
            fail(f"--species: {species!r} is not one of auto, none, {', '.join(known)}")
    from genet5.predict.decoders import DECODERS, default_decoder

    if decoder is not None and decoder not in DECODERS:
        fail(f"--decoder: {decoder!r} is not one of {', '.join(DECODERS)}")
    chosen = None  # the genome's own answer to --domain auto (predict/domain.py)
    records = None  # the FASTA's records, where choosing the domain began reading them
    if domain == "auto":  # a decoder implies its domain; else an organelle's name; else the genetic code; else the genome
        if decoder and len(DECODERS[decoder].domains) == 1:
            domain = DECODERS[decoder].domains[0]
        else:  # the genome's first records, read here and handed on with the rest of the stream
            import itertools

            from genet5.genome.fasta import read_fasta
            from genet5.predict.domain import choose_domain, organelle_named, read_head

            stream = read_fasta(genome)
            head, sample = read_head(stream)
            records = itertools.chain(head, stream)
            headers = [r.description for r in head]
            if genetic_code in (None, 0) or organelle_named(headers):  # 0: -g auto, a prokaryote's choice
                chosen = choose_domain(sample, headers)
                domain = chosen.domain
                if genetic_code == 0 and domain == "eukaryote":  # what a user with an unknown genome asks
                    genetic_code = None  # the nucleus's standard code, below
                    print(f"note: -g auto chooses between the prokaryotic tables 11 and 4, but the genome reads as a "
                          f"eukaryote ({chosen.reason()}): decoded with the standard code, table 1; give "
                          "--domain prokaryote to keep -g auto", file=sys.stderr, flush=True)  # fmt: skip
            else:
                domain = "eukaryote" if genetic_code == 1 else "prokaryote"
            if chosen is not None and chosen.organelle in ("mitochondrion", "organelle") and genetic_code is None:
                fail(f"{genome}: the FASTA headers name a mitochondrial genome, whose translation table depends on "
                     "its lineage: give it with -g (1 plants, 2 vertebrates, 3 yeasts, 4 other fungi and protists, "
                     "5 invertebrates, 9 echinoderms and flatworms, ...)")
    if genetic_code is None:
        genetic_code = 1 if domain == "eukaryote" else 11
    training_set, write_training = None, False
    if training is not None:
        if domain != "prokaryote":
            fail(f"--training (Prodigal's -t) reads or writes a prokaryote's parameters; the domain here is {domain}"
                 + (f" ({chosen.reason()})" if chosen is not None else "") + ": drop it or give --domain prokaryote")
        if training.exists():
            from genet5.predict.prokaryote.meta import load_training

            try:
                training_set = load_training(training)
            except UserError as err:
                fail(str(err))
            given = genetic_code_text is not None and genetic_code_text.strip().lower() != "auto"
            if given and genetic_code != training_set.code:
                fail(f"--genetic-code {genetic_code_text}: {training} was trained under table {training_set.code}")
            if mode != "auto":
                fail(f"--mode {mode}: a training file's parameters decode every sequence; drop --mode / --meta")
            genetic_code = training_set.code
        else:
            if mode == "meta":
                fail(f"--training {training} does not exist, so it is written from single mode, which --meta contradicts")
            mode, write_training = "single", True
    main_output = "--output"  # as errors name it
    if output is None and not write_training:  # Prodigal writes its genes to standard output without -o
        output, main_output = Path("-"), "the annotation (no -o: standard output)"
    if fasta_headers not in ("genet5", "prodigal"):
        fail(f"--fasta-headers: {fasta_headers!r} is not one of genet5, prodigal")
    if mode != "auto" and domain != "prokaryote":  # meta / single mode are the prokaryote decoder's
        fail(f"--{'meta' if meta else 'mode ' + mode} is for prokaryotes (Prodigal's -p); the domain here is {domain}"
             + (f" ({chosen.reason()})" if chosen is not None else "") + ": drop it or give --domain prokaryote")
    if closed and domain != "prokaryote":
        fail("--closed (complete genes only) is for prokaryotes; drop it or use --domain prokaryote")
    if output_format == "sco" and domain != "prokaryote":
        fail("--format sco (Prodigal's simple coordinates) holds one span per gene, for prokaryotes; the domain here is "
             f"{domain}" + (f" ({chosen.reason()})" if chosen is not None else "") + ": write gff or gtf, or give --domain prokaryote")
    if genetic_code == 0 and domain != "prokaryote":
        fail("--genetic-code auto chooses between tables 11 and 4 for prokaryotes; give the table for a eukaryote (-g 1)")
    if decoder is not None and domain not in DECODERS[decoder].domains:
        fail(f"--decoder {decoder} decodes {' and '.join(DECODERS[decoder].domains)} genomes; drop it or use "
             f"--domain {DECODERS[decoder].domains[0]}")
    decoder = decoder or default_decoder(domain)
    if genetic_code_text is None and domain == "prokaryote" and training_set is None and decoder != "prokaryote":
        genetic_code = 0  # only the default decoder reads TGA read-through itself: -g auto's choice, up front
    if species != "auto" and decoder != "selftrained":
        fail(f"--species chooses the training species of the eukaryote decoder (selftrained); --decoder {decoder} has none")
    from genet5.cli.app import check_outputs

    check_outputs([genome], {main_output: output, "--gtf": gtf, "--genbank": genbank, "--proteins": proteins, "--cds": cds,
                             "--training": training if write_training else None})
    if bedgraph:
        check_outputs([genome], {"--bedgraph": Path(f"{bedgraph}.coding.bedgraph")})
    codons = _parse_codons(start_codons, genetic_code)
    if batch_size < 1:
        fail(f"--batch-size: {batch_size} must be at least 1")
    if threads is not None and threads < 1:
        fail(f"--threads: {threads} must be at least 1")
    if min_gene_length < 6:
        fail(f"--min-gene-length: {min_gene_length} is shorter than a start and a stop codon (at least 6)")
    if device not in ("auto", "cpu", "cuda"):
        fail(f"--device: {device!r} is not one of auto, cpu, cuda")
    seq2seq_model = None
    if decoder == "seq2seq":  # --model names its checkpoint; checked before the genome is read
        from genet5.predict.seq2seq_decoder import BUNDLED_SEQ2SEQ_MODELS, load_seq2seq

        model = model if model is not None else Path(BUNDLED_SEQ2SEQ_MODELS[domain])
        try:
            load_seq2seq(model)
        except ValueError as err:
            fail(f"--model: {err}")
        seq2seq_model = str(resolve_model_path(model))
    model_dir = resolve_model_path(model if model is not None else BUNDLED_GENE_MODEL)
    # the per-base network runs only for the decoders that read its track (and --bedgraph);
    # the prokaryote default never imports torch (~1 s of start-up: a phage decodes in 0.2 s)
    uses_network = bool(bedgraph) or decoder in ("orf", "viterbi") or (decoder == "prokaryote" and network)
    load_network = uses_network or (model is not None and decoder != "seq2seq")  # a --model given is checked
    net = None
    if uses_network and model is None and not (model_dir / "config.json").is_file():
        fail(f"no bundled model in this installation ({BUNDLED_GENE_MODEL}); pass --model DIR")
    if load_network or decoder == "seq2seq":
        import torch

        if threads:
            torch.set_num_threads(threads)
        torch.manual_seed(0)  # nothing is sampled; fixed anyway so runs are reproducible
        if device == "cuda" and not torch.cuda.is_available():
            fail("--device cuda: this torch has no usable CUDA device; use --device cpu (or auto)")
    if model is not None and not uses_network and decoder != "seq2seq":
        print(f"genet5: note: --model {model} is not used: the {decoder} decoder runs without the per-base network "
              "(--network adds its evidence; --decoder orf / viterbi decode with it)", file=sys.stderr)
    if device == "cuda" and not (load_network or decoder == "seq2seq"):
        print(f"genet5: note: --device cuda: the {decoder} decoder runs on the CPU (no network to place); --device "
              "applies to --network, --decoder orf / viterbi / seq2seq", file=sys.stderr)
    if load_network:
        from genet5.models.genet5 import GeneT5PerBase
        from genet5.models.weights import load_model

        dev = "cuda" if device == "auto" and torch.cuda.is_available() else ("cpu" if device == "auto" else device)
        net = load_model(model_dir, GeneT5PerBase, device=dev)
    cfg = PredictConfig(
        genetic_code=genetic_code, decoder=decoder, domain=domain, use_network=network, mode=mode, closed=closed,
        training_set=training_set, write_training=write_training,
        min_gene_length=min_gene_length, softmask=softmask, species=species,
        id_prefix=id_prefix, batch_size=batch_size, learn_starts=learn_starts,
        start_codons=codons, workers=threads or 0, seq2seq_model=seq2seq_model,
        code_from_genome=genetic_code_text is None and domain == "prokaryote" and training_set is None,
    )
    # The FASTA is read once, as it streams through the pipeline: the total is not known ahead,
    # so progress counts the bases done. The writers of --proteins / --cds / --genbank take the
    # sequences kept as they came (nothing is written beside the input, no second read).
    sequences: dict[str, bytes] = {}
    gbk_output = output_format == "gbk"
    keep_bases = bool(proteins or cds or genbank or gbk_output)
    header_lines: dict[str, str] = {}  # -f sco: each sequence's whole '>' line and G+C, as Prodigal's SCO has them
    gc_of: dict[str, float] = {}

    def keep_all(rec) -> None:
        if keep_bases:
            sequences[rec.id] = rec.seq
        if output_format == "sco":
            from genet5.predict.prokaryote.orfs import gc_share

            header_lines[rec.id] = f"{rec.id} {rec.description}" if rec.description else rec.id
            gc_of[rec.id] = gc_share(rec.seq)

    keep = keep_all if (keep_bases or output_format == "sco") else None
    if decoder == "selftrained":  # numba and its kernels, torch for the site classifier: imported before the freeze below
        import genet5.predict.eukaryote.decoder  # noqa: F401
        import genet5.predict.eukaryote.sites  # noqa: F401
    import gc

    # The objects of the modules imported so far (torch alone: a few hundred thousand) live as
    # long as the process; frozen, the collector stops re-scanning them at every full collection
    # (0.3 s of a 5 s eukaryote run on 1 Mb, AMD EPYC 2 cores, 2026-12-04)
    gc.freeze()
    from contextlib import nullcontext

    # rich only where it shows something: a terminal (in a log it would leave an empty line)
    with nullcontext() if quiet or not sys.stderr.isatty() else _progress_bar() as progress:
        on_bases = None
        if progress is not None:
            task = progress.add_task("predict", total=None, rate="")
            import time

            t0 = time.perf_counter()

            def on_bases(n: int) -> None:
                done = progress.tasks[0].completed + n
                progress.update(task, completed=done, rate=f"{done / max(time.perf_counter() - t0, 1e-9):,.0f} bp/s")

        from genet5.predict.tracks import BedGraphWriter

        # opened before predicting, so a bad PREFIX fails at once; files appear only on success
        with BedGraphWriter(bedgraph) if bedgraph else nullcontext() as tracks:
            ann, lengths, stats = predict_genome(net, genome, cfg, on_bases, tracks.add if tracks else None, keep, records)
    import shlex

    from genet5 import __version__

    settings = (f"domain {domain}" + (f" ({chosen.describe()})" if chosen else "") + (f", mode {stats.mode}" if stats.mode else "")
                + (f", decoder {cfg.decoder}" if domain == "eukaryote" or cfg.decoder == "seq2seq" else "")
                + f", genetic code {stats.genetic_code or genetic_code}" + _table4_said(stats)
                + ("" if network or domain != "prokaryote" or cfg.decoder == "seq2seq" else ", no network"))
    used = (_model_label(model_dir) if uses_network else _model_label(Path(seq2seq_model)) if seq2seq_model
            else {"prokaryote": "prokaryote-starts", "selftrained": "gene-sites"}.get(decoder, _model_label(model_dir)))
    comments = [f"genet5 {__version__} predict; model {used}; {settings}",
                "command: " + " ".join(shlex.quote(a) for a in ["genet5", *sys.argv[1:]])]
    from genet5.atomic import OutputSet
    from genet5.genome.gff3_writer import write_gff3_handle

    with OutputSet() as outputs:  # all files appear together, or none (error, Ctrl-C, SIGTERM)
        g = None
        if proteins or cds or genbank or gbk_output:
            from genet5.genome.extract import SequenceDict

            g = SequenceDict(sequences, str(genome))

        def gff3_to(handle) -> None:
            write_gff3_handle(handle, ann, lengths, source="genet5", comments=comments)

        def gtf_to(handle) -> None:
            from genet5.genome.gtf_writer import write_gtf_handle

            write_gtf_handle(handle, ann)

        def genbank_to(handle) -> None:
            from genet5.genome.genbank_writer import write_genbank_handle

            write_genbank_handle(handle, ann, g, default_code=stats.genetic_code or genetic_code or 11,
                                 tool=f"genet5:{__version__}", order=list(lengths), eukaryote=domain == "eukaryote")

        def sco_to(handle) -> None:
            from genet5.genome.sco_writer import RUN_TYPES, write_sco_handle

            names = list(lengths)
            models = dict(zip(names, stats.meta_sets)) if len(stats.meta_sets) == len(names) else None
            write_sco_handle(handle, ann, lengths, header_lines, gc_of,
                             stats.genetic_code or genetic_code or 11, RUN_TYPES.get(stats.mode or "single", "Single"),
                             models, __version__)

        write_main = {"gff": gff3_to, "gtf": gtf_to, "gbk": genbank_to, "sco": sco_to}[output_format]
        # "-": standard output; a name ending in .gz: gzip-compressed (atomic.OutputSet.open)
        for path, write in ((output, write_main), (gtf, gtf_to), (genbank, genbank_to)):
            if path:
                with outputs.open(path) as fh:
                    write(fh)
        if proteins or cds:
            from genet5.genome.writers_fasta import write_cds, write_proteins

            if proteins:
                with outputs.open(proteins, "wb") as fh:
                    write_proteins(fh, ann, g, default_code=stats.genetic_code, headers=fasta_headers)
            if cds:
                with outputs.open(cds, "wb") as fh:
                    write_cds(fh, ann, g, headers=fasta_headers)
        if write_training:
            from genet5.predict.prokaryote.meta import save_training

            save_training(outputs.take(training), stats.trained, {"genome": str(genome), "genet5": __version__,
                                                                   "genes": stats.genes, "bases": stats.bases})
    code_note = (f"genetic code {stats.genetic_code} chosen from the genome ({stats.code_choice.describe()})"
                 + ("; -g not given: pass -g 11 to keep table 11" if genetic_code_text is None else "")
                 if stats.code_choice is not None else "")
    wrote = {"gff": "GFF3", "gtf": "GTF", "gbk": "GenBank", "sco": "SCO"}[output_format]
    summary = (
        f"{_counted(stats.genes, 'gene')} on {_counted(stats.sequences, 'sequence')} ({stats.bases:,} bp) in {stats.seconds:.1f} s "
        f"({stats.bases / max(stats.seconds, 1e-9):,.0f} bp/s)"
        + ("" if output is None else f"; wrote {wrote + ' to stdout' if str(output) == '-' else output}")
        + (f"; meta mode (parameter sets: {', '.join(sorted(set(stats.meta_sets)))})" if stats.mode == "meta" else "")
        + (f"; parameters from {training} (trained on {training_set.name})" if training_set is not None else "")
        + (f"; wrote the training file {training}" if write_training else "")
        + (f"; {code_note}" if code_note else "") + _table4_said(stats, ";")
        + (f"; domain {chosen.domain} chosen from the genome ({chosen.reason()})" if chosen else ""))
    if quiet:  # Prodigal's -q: nothing, unless the genome overruled the command's own table (no -g, table 4)
        summary = (f"note: {code_note}" if code_note and genetic_code_text is None and stats.genetic_code != 11
                   else f"note:{_table4_said(stats, '')}" if stats.table4_sequences else "")
    for note in stats.notes:  # where the genome changed what was asked (pipeline.py), even with -q
        print(f"note: {note}", file=sys.stderr, flush=True)
    if summary:
        print(summary, file=sys.stderr, flush=True)  # one line, as a log reader or grep expects


def _counted(n: int, noun: str) -> str:
    """"1 gene", "2,300 genes"."""
    return f"{n:,} {noun}" + ("" if n == 1 else "s")


def _table4_said(stats, sep: str = ",") -> str:
    """Where meta mode without -g read some sequences under table 4 (meta.find_genes_meta_any_code)."""
    if not stats.table4_sequences:
        return ""
    return (f"{sep} table 4 on {stats.table4_sequences:,} of {_counted(stats.sequences, 'sequence')} (their genes read through TGA "
            "as Mycoplasma genes do; -g 11 keeps table 11)")
