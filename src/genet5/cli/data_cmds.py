"""`genet5 bake` (GeneT5 training windows) and `genet5 lm bake` (Genos pretraining shards)."""

from __future__ import annotations

from pathlib import Path
from typing import List, Optional

import typer

from genet5.cli.app import app, fail


def command_group(name: str, help: str) -> typer.Typer:
    """The sub-app `name` on the shared app, created on first use: several modules add commands
    to `genet5 lm` (bake here, pretrain/score elsewhere) without registering it twice."""
    for group in app.registered_groups:
        if group.name == name and group.typer_instance is not None:
            return group.typer_instance
    sub = typer.Typer(help=help, no_args_is_help=True)
    app.add_typer(sub, name=name)
    return sub


lm_app = command_group("lm", "Genos genomic language models.")


@app.command("bake")
def bake_cmd(
    raw: Path = typer.Argument(..., help="manifest.tsv, or a directory of species folders (genome.fa[.gz] + annotation.*)."),
    out_dir: Path = typer.Argument(..., help="Output directory (resumable: finished genomes are skipped)."),
    window: int = typer.Option(4096, "--window", help="Window length in bases."),
    overlap: int = typer.Option(512, "--overlap", help="Bases shared by neighbouring windows."),
    holdout: List[str] = typer.Option([], "--holdout", help="Species (group, species name or path) held out for validation; repeatable."),
    splits: Optional[Path] = typer.Option(None, "--splits", help="A splits.tsv (path, split): hold out its validation genomes."),
    group_by: str = typer.Option("species", "--group-by", help="Split unit: 'species' (binomial, strains together) or 'genome'."),
    subset: float = typer.Option(1.0, "--subset", help="Deterministic fraction of windows kept per genome."),
    seed: int = typer.Option(0, "--seed", help="Seed of the --subset selection."),
    workers: int = typer.Option(1, "--workers", help="Processes (one genome each)."),
    max_n: float = typer.Option(0.5, "--max-n", help="Skip windows with a larger fraction of N."),
    shard_windows: int = typer.Option(4096, "--shard-windows", help="Windows per shard file."),
    single_strand: bool = typer.Option(False, "--single-strand", help="Plus strand only (default: both)."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bar."),
) -> None:
    """Bake genomes + annotations into GeneT5 training windows (memory-mappable shards)."""
    from genet5.data.bake import BakeConfig, bake

    cfg = BakeConfig(window=window, overlap=overlap, both_strands=not single_strand, subset=subset, seed=seed,
                     max_n=max_n, shard_windows=shard_windows, group_by=group_by, holdout=list(holdout),
                     splits=splits, workers=workers)  # fmt: skip
    if not raw.exists():
        fail(f"{raw}: no such file or directory")
    if splits is not None and not splits.is_file():
        fail(f"{splits}: no such file")
    try:
        index = bake(raw, out_dir, cfg, show_progress=not quiet, log=lambda line: typer.echo(line, err=True))
    except ValueError as err:  # GenomeFormatError is one too: file:line: problem
        fail(str(err))
    t, v = index["totals"]["train"], index["totals"]["valid"]
    print(f"train: {t['species']} genomes, {t['windows']} windows, {t['bases']} bases")
    print(f"valid: {v['species']} genomes, {v['windows']} windows, {v['bases']} bases"
          + (f" (held out: {'; '.join(index['holdout_groups'])})" if index["holdout_groups"] else ""))  # fmt: skip
    print(f"wrote {out_dir / 'index.json'}")


@lm_app.command("bake")
def lm_bake_cmd(
    inputs: List[Path] = typer.Argument(..., help="FASTA files, species directories or manifest.tsv files, then OUT_DIR."),
    out_dir: Path = typer.Argument(..., help="Output directory."),
    holdout: List[str] = typer.Option([], "--holdout", help="Species held out (to valid/); repeatable."),
    splits: Optional[Path] = typer.Option(None, "--splits", help="A splits.tsv (path, split): hold out its validation genomes."),
    group_by: str = typer.Option("species", "--group-by", help="'species' or 'genome'."),
    shard_bases: int = typer.Option(1 << 28, "--shard-bases", help="Bases per shard (shards end between documents)."),
    min_length: int = typer.Option(1, "--min-length", help="Skip sequences shorter than this."),
) -> None:
    """Bake FASTA corpora into Genos pretraining token shards (one document per sequence)."""
    from genet5.data.lm_data import lm_bake

    for p in inputs:
        if not p.exists():
            fail(f"{p}: no such file or directory")
    if splits is not None and not splits.is_file():
        fail(f"{splits}: no such file")
    try:
        index = lm_bake(inputs, out_dir, shard_bases=shard_bases, min_length=min_length, holdout=list(holdout),
                        group_by=group_by, splits=splits)  # fmt: skip
    except ValueError as err:
        fail(str(err))
    for split, s in index["splits"].items():
        print(f"{split}: {s['documents']} documents, {s['bases']} bases, {len(s['shards'])} shards")
    print(f"wrote {out_dir / 'index.json'}")
