"""`genet5 plot`: draw a genome region with its gene models and the model's probabilities."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer
from rich.console import Console

from genet5.cli.app import app, fail

console = Console(stderr=True)


MAX_WIDTH = 200.0


@app.command()
def plot(
    region: str = typer.Argument(..., help="SEQID:START-END, 1-based and inclusive (e.g. chr1:10000-20000), or a whole SEQID."),
    genome: Path = typer.Option(..., "--genome", "-f", help="Genome FASTA (plain, gzip or bgzip)."),
    output: Path = typer.Option(..., "--output", "-o", help="Image file; the format follows the suffix (.png, .pdf, .svg)."),
    reference: Optional[Path] = typer.Option(None, "--reference", "-r", help="Reference annotation (GFF3 or GTF) drawn in its own lane."),
    prediction: Optional[Path] = typer.Option(None, "--prediction", "-p", help="Predicted annotation (GFF3 or GTF) drawn in its own lane."),
    model: Optional[Path] = typer.Option(None, "--model", "-m", help="Model directory for the probability track (default: the bundled model, when installed)."),
    no_model: bool = typer.Option(False, "--no-model", help="Draw the annotations only, without running a model."),
    frames: bool = typer.Option(False, "--frames", help="Also draw P(codon position 0/1/2)."),
    width: float = typer.Option(12.0, "--width", help="Figure width in inches."),
    threads: Optional[int] = typer.Option(None, "--threads", help="CPU threads for torch (default: torch's choice)."),
) -> None:
    """Draw a region: reference and predicted genes, and the per-base probabilities of the model."""
    from genet5.genome.fasta import Genome
    from genet5.genome.gff import read_annotation
    from genet5.predict.plot import RegionError, parse_region, plot_region, region_logprobs

    # Cheap checks first: a mistyped region fails at once, before torch or matplotlib load.
    if not 1.0 <= width <= MAX_WIDTH:  # matplotlib draws at most 2**16 pixels a side
        fail(f"--width {width:g}: give a figure width between 1 and {MAX_WIDTH:g} inches")
    seqs = Genome(genome)
    try:
        where = parse_region(region, seqs.lengths)
    except RegionError as err:
        fail(str(err))
    try:
        from matplotlib.backend_bases import FigureCanvasBase
    except ModuleNotFoundError:
        fail("plot needs matplotlib: pip install 'genet5[plot]'")
    fmt = output.suffix.lstrip(".").lower()
    if fmt not in FigureCanvasBase.get_supported_filetypes():
        fail(f"{output}: unknown image format {fmt!r}; use .png, .pdf or .svg")
    lanes = [(name, read_annotation(path)) for name, path in (("reference", reference), ("prediction", prediction)) if path]

    from genet5.models.weights import BUNDLED_GENE_MODEL, CONFIG_NAME, resolve_model_path

    model_dir = None
    if model is not None:
        model_dir = resolve_model_path(model)  # a bad --model is an error (when loaded), not a silent omission
    elif not no_model and (resolve_model_path(BUNDLED_GENE_MODEL) / CONFIG_NAME).is_file():
        model_dir = resolve_model_path(BUNDLED_GENE_MODEL)
    elif not no_model:
        console.print("no bundled model in this installation: plotting without probabilities (--model DIR adds them)",
                      highlight=False, soft_wrap=True)
    if model_dir is None and not lanes:
        fail("nothing to plot: give --reference, --prediction or --model")

    logp = None
    if model_dir is not None:
        import torch

        from genet5.models.genet5 import GeneT5PerBase
        from genet5.models.weights import load_model

        if threads:
            torch.set_num_threads(threads)
        device = "cuda" if torch.cuda.is_available() else "cpu"
        net = load_model(model_dir, GeneT5PerBase, device=device)
        logp = region_logprobs(net, seqs, where)
    title = f"{where}  ({where.length:,} bp)" + (f"   model: {model_dir.name}" if model_dir else "")
    try:
        plot_region(output, where, lanes, logp=logp, frames=frames, title=title, width=width)
    except ValueError as err:
        fail(str(err))
    console.print(f"wrote {output} ({where}, {len(lanes)} annotation lane(s)"
                  f"{', model probabilities' if logp is not None else ''})", highlight=False, soft_wrap=True)
