"""`genet5 tokenizer ...`: train and inspect DNA BPE tokenizers."""

from __future__ import annotations

import json
from pathlib import Path
from typing import List

import typer

from genet5.cli.app import app, fail

tokenizer_app = typer.Typer(help="DNA tokenizers (BPE training, inspection).", no_args_is_help=True)
app.add_typer(tokenizer_app, name="tokenizer")


@tokenizer_app.command("train")
def train(
    fasta: List[Path] = typer.Argument(..., help="FASTA files (.gz allowed)."),
    vocab_size: int = typer.Option(4096, "--vocab-size", help="Vocabulary size incl. specials."),
    out: Path = typer.Option(..., "-o", "--out", help="Output directory for tokenizer.json."),
    chunk_size: int = typer.Option(1000, "--chunk-size", help="Bases per training word."),
    min_frequency: int = typer.Option(2, "--min-frequency"),
    max_token_length: int = typer.Option(32, "--max-token-length"),
) -> None:
    """Train a BPE tokenizer over the sequences of FASTA files."""
    from genet5.tokenizers.bpe import DNABPETokenizer

    for p in fasta:
        if not p.is_file():
            fail(f"{p}: no such file")
    if vocab_size < 10:
        fail(f"--vocab-size must be at least 10, got {vocab_size}")
    if out.suffix != ".json" and out.exists() and not out.is_dir():  # checked before the training, not after it
        fail(f"-o {out}: exists and is not a directory (give a directory for tokenizer.json, or a name ending in .json)")
    for flag, value in (("--chunk-size", chunk_size), ("--min-frequency", min_frequency), ("--max-token-length", max_token_length)):
        if value < 1:
            fail(f"{flag} must be at least 1, got {value}")
    try:
        tok = DNABPETokenizer.train_from_fasta(
            fasta,
            vocab_size=vocab_size,
            chunk_size=chunk_size,
            min_frequency=min_frequency,
            max_token_length=max_token_length,
        )
    except ValueError as err:
        fail(str(err))
    path = tok.save(out)
    typer.echo(json.dumps({"path": str(path), **tok.describe()}))


@tokenizer_app.command("info")
def info(path: Path = typer.Argument(..., help="tokenizer.json or its directory.")) -> None:
    """Print vocabulary size and token-length statistics."""
    from genet5.tokenizers.bpe import DNABPETokenizer

    try:
        tok = DNABPETokenizer.load(path)
    except ValueError as err:
        fail(str(err))
    typer.echo(json.dumps(tok.describe()))
