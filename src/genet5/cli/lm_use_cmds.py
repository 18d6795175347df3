"""`genet5 lm score / embed / generate`: use a trained Genos model (code in genet5.lm).

Registered on the `genet5 lm` group by genet5.cli.lm_cmds. Outputs are written atomically (a
temporary file renamed on success); progress goes to stderr (`--quiet` turns it off); user
errors are one line on stderr and exit code 2.
"""

from __future__ import annotations

import importlib.util
import sys
import time
from collections import Counter
from contextlib import contextmanager
from pathlib import Path
from typing import Optional

import typer

from genet5.cli.app import fail
from genet5.cli.data_cmds import command_group

lm_app = command_group("lm", "Genos genomic language models.")

_MODEL_HELP = "Genos model directory (config.json + model.safetensors; genet5 lm pretrain writes RUN/model), or genos-tiny-prok, the small model bundled with genet5."
_THREADS_HELP = "CPU threads for torch (default: torch's choice)."
_DEVICE_HELP = "auto (GPU when present), cpu or cuda. CUDA runs under bf16 autocast; CPU is fp32."
_CONTEXT_HELP = ("Model window in bases (default: the model's training context, config max_seq_len). Longer "
                 "sequences are covered by overlapping model windows.")  # fmt: skip
_CSTRIDE_HELP = ("How far model windows advance (default --context / 2): every base gets between "
                 "context - context-stride and context bases of left context.")  # fmt: skip
_CHUNK_HELP = "Tokens per forward through the KV cache (chunked prefill; attention memory ~ chunk x context)."
_BATCH_HELP = "Padded tokens per batch of windows."


# -- shared pieces ----------------------------------------------------------------------------
@contextmanager
def _user_errors():
    """Bad input found anywhere below becomes one line and exit 2 (outputs are not committed)."""
    from genet5.errors import UserError

    try:
        yield
    except UserError as err:
        fail(str(err))
    except (FileNotFoundError, IsADirectoryError, PermissionError, NotADirectoryError) as err:
        fail(f"{err.filename}: {err.strerror}")
    except ValueError as err:  # option values the library refuses (the CLI checks most first)
        fail(str(err))


def _load(model_dir: Path, device: str, threads: Optional[int]):
    import torch

    from genet5.lm.model import load_genos, resolve_device

    if threads is not None:
        if threads < 1:
            fail(f"--threads must be >= 1, got {threads}")
        torch.set_num_threads(threads)
    with _user_errors():
        dev = resolve_device(device)
        return load_genos(model_dir, device=dev)


def _check_output(path: Optional[Path], inputs: list, extra: Optional[dict] = None) -> Optional[Path]:
    """The output file to write, None for standard output (no -o, or "-": as every genet5 output
    option reads it); refused before any work where it could not be written or is one of the
    command's `inputs` (`lm score x.fa -o x.fa` replaced the FASTA with its scores). `extra`:
    files written beside it (option name -> path)."""
    from genet5.cli.app import check_outputs

    if path is None or str(path) == "-":
        return None
    check_outputs(inputs, {"--output": path, **(extra or {})})  # also: a directory, a missing folder
    return path


def _positive(name: str, value: Optional[int], minimum: int = 1) -> None:
    if value is not None and value < minimum:
        fail(f"{name} must be >= {minimum}, got {value}")


def _check_context(context: Optional[int], context_stride: Optional[int], chunk: int, batch_tokens: int) -> None:
    _positive("--context", context, 2)
    _positive("--context-stride", context_stride)
    _positive("--chunk", chunk)
    _positive("--batch-tokens", batch_tokens)
    if context and context_stride and context_stride > context:
        fail(f"--context-stride ({context_stride}) must not exceed --context ({context})")


def _fasta_total(path: Path) -> Optional[int]:
    """Total bases for the progress bar when an index makes it cheap (not for plain gzip, which
    would have to be decompressed twice)."""
    try:
        from genet5.genome.fasta import GZIP, Genome, detect_compression

        if not Path(path).is_file() or detect_compression(path) == GZIP:  # a pipe is read once, by the scoring
            return None
        return sum(Genome(path).lengths.values())
    except Exception:  # the real read reports problems with a proper message
        return None


@contextmanager
def _progress(label: str, total: Optional[int], unit: str, quiet: bool):
    """Yields advance(n); a rich bar (stderr) with the rate in `unit`/s."""
    from rich.console import Console
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

    count = "{task.completed:,.0f}/{task.total:,.0f} " if total else "{task.completed:,.0f} "
    with Progress(
        TextColumn(f"[bold]{label}"), BarColumn(), TextColumn(count + unit), TextColumn("{task.fields[rate]}"),
        TimeElapsedColumn(), TimeRemainingColumn(), console=Console(stderr=True), disable=quiet, transient=False,
    ) as progress:  # fmt: skip
        task = progress.add_task(label, total=total, rate="")
        t0 = time.perf_counter()

        def advance(n: int) -> None:
            done = progress.tasks[0].completed + n
            progress.update(task, completed=done, rate=f"{done / max(time.perf_counter() - t0, 1e-9):,.0f} {unit}/s")

        yield advance


@contextmanager
def _table_out(path: Optional[Path]):
    """A text handle on a command's table: the file `path` (written atomically), or, for None,
    standard output, which gets the table whole or not at all. The table is spooled (in memory,
    on disk past 8 MiB) and copied to stdout once the block ends without an error: bad input
    found anywhere (a malformed FASTA record late in the file, a late VCF line) prints no header
    and no rows before its error line. Chosen over reading the input once before the header:
    standard input (`lm score MODEL -`) and pipes cannot be read twice."""
    from genet5.atomic import STDOUT, OutputSet, atomic_write

    if path is not None:
        with atomic_write(path) as fh:
            yield fh
        return
    import shutil
    import tempfile

    with tempfile.SpooledTemporaryFile(max_size=8 << 20, mode="w+", encoding="utf-8") as spool:
        yield spool
        spool.seek(0)
        with OutputSet() as outs, outs.open(STDOUT) as out:  # a full disk or closed pipe: one line
            shutil.copyfileobj(spool, out)


@contextmanager
def _readable_twice(path: Path):
    """`path` itself where it is a regular file, else (a shell's <(zcat v.vcf.gz), a named pipe,
    /dev/stdin) a temporary copy of its bytes: the VCF is read twice, once to check every line
    before the table starts and once to score, and a pipe gives its bytes once."""
    import shutil
    import tempfile

    if path.is_file():
        yield path
        return
    if not path.exists():
        fail(f"{path}: no such file")
    if path.is_dir():
        fail(f"{path}: is a directory, not a VCF file")
    with tempfile.NamedTemporaryFile(prefix="genet5_vcf_") as copy:
        with open(path, "rb") as src:
            shutil.copyfileobj(src, copy)
        copy.flush()
        yield Path(copy.name)


def _fmt(x: float) -> str:
    return f"{x:.6f}" if x == x else "nan"


# -- score ------------------------------------------------------------------------------------
@lm_app.command("score")
def score(
    model: Path = typer.Argument(..., help=_MODEL_HELP),
    fasta: Path = typer.Argument(..., help="FASTA to score (plain, gzip or bgzip); with --vcf, the reference genome."),
    output: Optional[Path] = typer.Option(None, "--output", "-o", help="Output TSV (default: stdout)."),
    window: Optional[int] = typer.Option(None, "--window", help="One row per window of N bases instead of per sequence."),
    stride: Optional[int] = typer.Option(None, "--stride", help="Step between report windows (default: --window)."),
    vcf: Optional[Path] = typer.Option(None, "--vcf", help="Score the variants of this VCF (plain or gzip) against FASTA: ll(alt window) - ll(ref window)."),
    flank: int = typer.Option(512, "--flank", help="With --vcf: reference bases each side of the variant in both windows."),
    strict_ref: bool = typer.Option(False, "--strict-ref", "--strict", help="With --vcf: stop at the first variant whose CHROM or REF does not match FASTA (default: skip it and count it)."),
    context: Optional[int] = typer.Option(None, "--context", help=_CONTEXT_HELP),
    context_stride: Optional[int] = typer.Option(None, "--context-stride", help=_CSTRIDE_HELP),
    chunk: int = typer.Option(4096, "--chunk", help=_CHUNK_HELP),
    batch_tokens: int = typer.Option(32768, "--batch-tokens", help=_BATCH_HELP),
    threads: Optional[int] = typer.Option(None, "--threads", help=_THREADS_HELP),
    device: str = typer.Option("auto", "--device", help=_DEVICE_HELP),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bar."),
) -> None:
    """Log-likelihood of sequences (or windows, or variants) under a Genos model.

    Columns: seqid, start, end (0-based, half-open), n_bases (scored bases), log_likelihood
    (natural log, summed over the scored bases), bits_per_base. Base i is scored from the bases
    before it; only A/C/G/T are scored (N and IUPAC letters are read as input, not scored); the
    first base of a sequence has no context and is not scored. Window rows are slices of the
    whole-sequence score (left context from before the window counts), so with --stride equal to
    --window they add up to the sequence.

    With --vcf, columns: chrom, pos, id, ref, alt, ll_ref, ll_alt, delta_ll; the windows are the
    variant +- --flank bases of the reference, with REF or ALT (indels: the two windows differ in
    length and their totals are compared). Variants whose CHROM is not in FASTA or whose REF
differs from it are skipped and counted on stderr (the first few named); --strict-ref stops
instead, before any output is written to a file."""
    _check_context(context, context_stride, chunk, batch_tokens)
    _positive("--window", window)
    _positive("--stride", stride)
    if stride is not None and window is None:
        fail("--stride needs --window")
    if flank < 0:
        fail(f"--flank must be >= 0, got {flank}")
    if vcf is not None and window is not None:
        fail("--window does not apply to --vcf (use --flank)")
    output = _check_output(output, [fasta, vcf])
    net = _load(model, device, threads)
    kw = dict(context=context, context_stride=context_stride, chunk=chunk, batch_tokens=batch_tokens)
    if vcf is not None:
        _score_vcf(net, fasta, vcf, output, flank, quiet, kw, strict_ref)
        return
    from genet5.genome.fasta import read_fasta
    from genet5.lm.scoring import score_records

    total = _fasta_total(fasta) if not quiet else None
    n_rows = n_seqs = 0
    # standard output gets the table whole or not at all: _table_out spools it until the end
    with _user_errors(), _progress("score", total, "bp", quiet) as advance, _table_out(output) as fh:
        fh.write("seqid\tstart\tend\tn_bases\tlog_likelihood\tbits_per_base\n")
        records = ((rec.id, rec.seq) for rec in read_fasta(fasta))
        last = None
        for row in score_records(net, records, window=window, stride=stride, on_bases=advance, **kw):
            fh.write(f"{row.seqid}\t{row.start}\t{row.end}\t{row.n_bases}\t{_fmt(row.log_likelihood)}\t{_fmt(row.bits_per_base)}\n")
            n_rows += 1
            n_seqs += row.seqid != last
            last = row.seqid
    if output is not None:
        print(f"scored {n_seqs:,} sequence(s), {n_rows:,} row(s); wrote {output}", file=sys.stderr)


def _score_vcf(net, fasta: Path, vcf: Path, output: Optional[Path], flank: int, quiet: bool, kw: dict,
               strict_ref: bool = False) -> None:  # fmt: skip
    from genet5.genome.fasta import Genome
    from genet5.lm.vcf import read_vcf, variant_effects

    skipped: Counter = Counter()
    mismatched: list[str] = []  # one message per allele that does not fit the reference

    def on_mismatch(_variant, err) -> None:
        mismatched.append(str(err))

    n = 0
    with _user_errors(), _readable_twice(vcf) as vcf_copy:
        genome = Genome(fasta)
        # a bad line (or, with --strict-ref, a mismatch) fails here, before the model scores
        # anything (the pass reads text only); the table itself is whole or absent on stdout
        # too (_table_out)
        from genet5.lm.vcf import variant_windows

        for v in read_vcf(vcf_copy, Counter(), name=str(vcf)):
            if strict_ref:
                variant_windows(genome, v, 0, str(vcf))
        with _progress("variants", None, "variants", quiet) as advance, _table_out(output) as fh:
            fh.write("chrom\tpos\tid\tref\talt\tll_ref\tll_alt\tdelta_ll\n")
            variants = read_vcf(vcf_copy, skipped, name=str(vcf))
            for e in variant_effects(net, genome, variants, flank=flank, vcf_path=str(vcf),
                                     on_mismatch=None if strict_ref else on_mismatch, **kw):  # fmt: skip
                v = e.variant
                fh.write(f"{v.chrom}\t{v.pos}\t{v.id}\t{v.ref}\t{v.alt}\t{_fmt(e.ll_ref)}\t{_fmt(e.ll_alt)}\t{_fmt(e.delta_ll)}\n")
                n += 1
                advance(1)
    if skipped:
        kinds = {"symbolic": "symbolic ALT allele(s) (<...>, breakends, *)", "missing": "missing ALT allele(s) ('.')"}
        print("genet5: warning: skipped " + "; ".join(f"{c} {kinds[k]}" for k, c in sorted(skipped.items())), file=sys.stderr)
    if mismatched:
        shown = "; ".join(mismatched[:3]) + ("; ..." if len(mismatched) > 3 else "")
        print(f"genet5: warning: skipped {len(mismatched):,} variant allele(s) that do not match {fasta} "
              f"(--strict-ref stops at the first): {shown}", file=sys.stderr)  # fmt: skip
    if n == 0:
        print(f"genet5: warning: {vcf} holds no variant that could be scored", file=sys.stderr)
    if output is not None:
        print(f"scored {n:,} variant allele(s); wrote {output}", file=sys.stderr)


# -- embed ------------------------------------------------------------------------------------
def _index_path(out: Path) -> Path:
    return out.with_suffix(".index.tsv")


@lm_app.command("embed")
def embed(
    model: Path = typer.Argument(..., help=_MODEL_HELP),
    fasta: Path = typer.Argument(..., help="FASTA (plain, gzip or bgzip)."),
    output: Path = typer.Option(..., "--output", "-o", help="OUT.npy (float32 array (rows, dim) + OUT.index.tsv with seqid/start/end per row) or OUT.parquet (seqid, start, end, embedding; needs pyarrow)."),
    pool: str = typer.Option("mean", "--pool", help="mean, max (element-wise) or last (the last position's state) over the positions of a sequence/window."),
    window: Optional[int] = typer.Option(None, "--window", help="One row per window of N bases, each embedded on its own."),
    stride: Optional[int] = typer.Option(None, "--stride", help="Step between windows (default: --window)."),
    context: Optional[int] = typer.Option(None, "--context", help=_CONTEXT_HELP),
    context_stride: Optional[int] = typer.Option(None, "--context-stride", help=_CSTRIDE_HELP),
    chunk: int = typer.Option(4096, "--chunk", help=_CHUNK_HELP),
    batch_tokens: int = typer.Option(32768, "--batch-tokens", help=_BATCH_HELP),
    threads: Optional[int] = typer.Option(None, "--threads", help=_THREADS_HELP),
    device: str = typer.Option("auto", "--device", help=_DEVICE_HELP),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bar."),
) -> None:
    """Embeddings: pooled final hidden states of a Genos model, per sequence or per window.

    start/end are 0-based, half-open. Hidden states come from chunked passes through the KV cache
    (the same as one full pass); sequences longer than --context use overlapping model windows."""
    import numpy as np

    from genet5.lm.embedding import POOLS

    _check_context(context, context_stride, chunk, batch_tokens)
    _positive("--window", window)
    _positive("--stride", stride)
    if stride is not None and window is None:
        fail("--stride needs --window")
    if pool not in POOLS:
        fail(f"--pool must be one of {', '.join(POOLS)}, got {pool!r}")
    if str(output) == "-":  # "-.npy" is an ordinary file name; only "-" itself means stdout
        fail("--output -: embeddings (OUT.npy + OUT.index.tsv, or OUT.parquet) cannot go to standard output; give a file name")
    kind = output.suffix.lower()
    if kind not in (".npy", ".parquet"):
        fail(f"{output}: the output name must end in .npy or .parquet")
    if kind == ".parquet" and importlib.util.find_spec("pyarrow") is None:
        fail("writing Parquet needs pyarrow, which is not installed: pip install pyarrow (or pip install 'genet5[lm]'), or write .npy")
    _check_output(output, [fasta], {"the index": _index_path(output)} if kind == ".npy" else None)
    net = _load(model, device, threads)
    from genet5.atomic import atomic_write
    from genet5.genome.fasta import read_fasta
    from genet5.lm.embedding import embed_records

    total = _fasta_total(fasta) if not quiet else None
    index, vectors = [], []
    with _user_errors():
        with _progress("embed", total, "bp", quiet) as advance:
            records = ((rec.id, rec.seq) for rec in read_fasta(fasta))
            for seqid, s, e, vec in embed_records(net, records, pool=pool, window=window, stride=stride,
                                                  context=context, context_stride=context_stride, chunk=chunk,
                                                  batch_tokens=batch_tokens, on_bases=advance):  # fmt: skip
                index.append((seqid, s, e))
                vectors.append(vec)
        arr = np.stack(vectors).astype(np.float32, copy=False)
        if kind == ".npy":
            side = _index_path(output)
            with atomic_write(output, "wb") as fh, atomic_write(side) as ih:
                np.save(fh, arr)
                ih.write("row\tseqid\tstart\tend\n")
                ih.writelines(f"{i}\t{sid}\t{s}\t{e}\n" for i, (sid, s, e) in enumerate(index))
            where = f"{output} + {side}"
        else:
            import pyarrow as pa
            import pyarrow.parquet as pq

            table = pa.table({
                "seqid": pa.array([r[0] for r in index], pa.string()),
                "start": pa.array([r[1] for r in index], pa.int64()),
                "end": pa.array([r[2] for r in index], pa.int64()),
                "embedding": pa.FixedSizeListArray.from_arrays(pa.array(arr.reshape(-1), pa.float32()), arr.shape[1]),
            })  # fmt: skip
            with atomic_write(output, "wb") as fh:
                pq.write_table(table, fh)
            where = str(output)
    print(f"embedded {arr.shape[0]:,} row(s) x {arr.shape[1]} ({pool} pool); wrote {where}", file=sys.stderr)


# -- generate ---------------------------------------------------------------------------------
@lm_app.command("generate")
def generate(
    model: Path = typer.Argument(..., help=_MODEL_HELP),
    prompt: Optional[str] = typer.Option(None, "--prompt", help="Prompt bases, e.g. ATGAAA (its record is named 'prompt')."),
    prompt_fasta: Optional[Path] = typer.Option(None, "--prompt-fasta", help="FASTA of prompts; samples of record R are named R_sample1, R_sample2, ..."),
    length: int = typer.Option(1000, "--length", "-n", help="Bases to generate per sample."),
    num_samples: int = typer.Option(1, "--num-samples", help="Samples per prompt."),
    temperature: float = typer.Option(1.0, "--temperature", help="Softmax temperature; 0 = greedy."),
    top_k: Optional[int] = typer.Option(None, "--top-k", help="Sample among the K most likely bases."),
    top_p: Optional[float] = typer.Option(None, "--top-p", help="Nucleus sampling: the smallest set of most likely bases whose probability reaches P."),
    seed: Optional[int] = typer.Option(None, "--seed", help="Random seed (same seed, model, inputs and device => same output)."),
    include_prompt: bool = typer.Option(False, "--include-prompt", help="Write prompt + continuation (default: the continuation only)."),
    context: Optional[int] = typer.Option(None, "--context", help="Keep the last N prompt bases (default: the model's training context)."),
    output: Optional[Path] = typer.Option(None, "--output", "-o", help="Output FASTA (default: stdout)."),
    threads: Optional[int] = typer.Option(None, "--threads", help=_THREADS_HELP),
    device: str = typer.Option("auto", "--device", help=_DEVICE_HELP),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bar."),
) -> None:
    """Sample DNA continuations of prompts with a Genos model (KV-cached).

    Only A, C, G and T are sampled: the model's other tokens (N, special and unused ids) are
    masked out before temperature, top-k and top-p, so the output is plain DNA."""
    if (prompt is None) == (prompt_fasta is None):
        fail("give exactly one of --prompt and --prompt-fasta")
    _positive("--length", length, 0)
    _positive("--num-samples", num_samples)
    _positive("--top-k", top_k)
    _positive("--context", context)
    if not 0 <= temperature < float("inf"):  # NaN fails every comparison
        fail(f"--temperature must be a finite number >= 0, got {temperature}")
    if top_p is not None and not 0.0 < top_p <= 1.0:
        fail(f"--top-p must be in (0, 1], got {top_p}")
    if prompt is not None:
        import re

        prompt = prompt.strip()
        if not prompt or not re.fullmatch(r"[ACGTUNRYSWKMBDHVacgtunryswkmbdhv]+", prompt):
            fail(f"--prompt {prompt!r} is not a DNA sequence (A C G T, N or IUPAC letters)")
    output = _check_output(output, [prompt_fasta])
    net = _load(model, device, threads)
    import torch

    from genet5.genome.fasta import read_fasta, write_fasta
    from genet5.lm.sampling import sample_sequences

    gen = None
    if seed is not None:
        gen = torch.Generator(device=next(net.parameters()).device).manual_seed(seed)
    records = []
    with _user_errors():
        prompts = [("prompt", prompt.upper().encode())] if prompt is not None else ((r.id, r.seq) for r in read_fasta(prompt_fasta))
        with _progress("generate", None, "samples", quiet) as advance:
            for pid, seq in prompts:
                conts = sample_sequences(net, seq, length, num_samples=num_samples, temperature=temperature,
                                         top_k=top_k, top_p=top_p, generator=gen, context=context)  # fmt: skip
                head = seq.decode() if include_prompt else ""
                records += [(f"{pid}_sample{i}", head + c) for i, c in enumerate(conts, 1)]
                advance(len(conts))
        if output is None:
            write_fasta(sys.stdout, records)
        else:
            write_fasta(output, records)
    if output is not None:
        print(f"wrote {len(records):,} sample(s) of {length:,} bases to {output}", file=sys.stderr)
