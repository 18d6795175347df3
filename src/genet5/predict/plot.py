"""A region of a genome drawn for eyes: gene lanes and the model's per-base probabilities.

Lanes (top to bottom): P(coding) and P(intron) from the per-base head (when a model is given),
optionally P(codon position 0/1/2), then one lane per annotation (reference, prediction).
Genes: CDS as thick boxes, other exon parts (UTRs) as thin boxes, introns as lines, a
triangle at the 3' end for the strand, the ID when it fits. Coordinates are 1-based, closed.

matplotlib is an optional dependency (the `plot` extra); it is imported only when drawing, so
parse_region and region_logprobs work without it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from genet5.genome.models import Annotation, Gene, Transcript

MAX_REGION = 1_000_000  # bases; wider plots show nothing a reader could use
STRAND_COLOURS = {"+": "#1f6fb4", "-": "#d0521f"}
OTHER_COLOUR = "#7f7f7f"  # strand '.' or '?'
MAX_ROWS = 12  # per lane; further overlapping genes share the last row


class RegionError(ValueError):
    """A REGION string that is malformed or outside the genome (one line, for the CLI)."""


@dataclass(frozen=True)
class Region:
    seqid: str
    start: int  # 1-based, inclusive
    end: int  # 1-based, inclusive

    @property
    def length(self) -> int:
        return self.end - self.start + 1

    def __str__(self) -> str:
        return f"{self.seqid}:{self.start:,}-{self.end:,}"


_REGION_RE = re.compile(r"^(?P<seqid>.+):(?P<start>[0-9][0-9,]*)-(?P<end>[0-9][0-9,]*)$")
_SYNTAX = "expected SEQID:START-END (1-based, inclusive), e.g. chr1:10000-20000, or a whole SEQID"


def parse_region(text: str, lengths: dict[str, int], max_length: int = MAX_REGION) -> Region:
    """`chr1:10,000-20,000` (or a bare sequence name) checked against the genome's lengths."""
    text = text.strip()
    if text in lengths:  # tried first: sequence names may themselves contain ':'
        region = Region(text, 1, lengths[text])
    else:
        m = _REGION_RE.match(text)
        if m is None:
            if ":" in text or not text:
                raise RegionError(f"bad region {text!r}: {_SYNTAX}")
            raise RegionError(f"unknown sequence {text!r}; {_known(lengths)}")
        seqid = m["seqid"]
        start, end = int(m["start"].replace(",", "")), int(m["end"].replace(",", ""))
        if seqid not in lengths:
            raise RegionError(f"unknown sequence {seqid!r} in region {text!r}; {_known(lengths)}")
        if start < 1 or end < start:
            raise RegionError(f"bad region {text!r}: START must be >= 1 and END >= START")
        if end > lengths[seqid]:
            raise RegionError(f"region {text!r} runs past the end of {seqid} (length {lengths[seqid]:,})")
        region = Region(seqid, start, end)
    if region.length > max_length:
        raise RegionError(f"region {region} is {region.length:,} bp; plot at most {max_length:,} bp at a time")
    return region


def _known(lengths: dict[str, int]) -> str:
    names = list(lengths)
    shown = ", ".join(names[:5]) + (f", ... ({len(names)} in all)" if len(names) > 5 else "")
    return f"the genome has {shown}"


# --- model track -----------------------------------------------------------------------------


def region_logprobs(model, genome, region: Region, cfg=None, flank: int | None = None) -> np.ndarray:
    """(region.length, C) per-base log-probabilities, from a run on the region plus flanks.

    The flanks (default half a window each side, clipped at the sequence ends) give bases near
    the region's edges the context they have in a whole-genome run; values can still differ
    slightly from `predict --bedgraph`, whose windows are placed differently.
    """
    from genet5.predict.pipeline import PredictConfig, per_base_logprobs

    cfg = cfg or PredictConfig()
    flank = cfg.window // 2 if flank is None else flank
    lo = max(1, region.start - flank)
    hi = min(genome.lengths[region.seqid], region.end + flank)
    seq = genome.fetch(region.seqid, lo, hi)
    logp = per_base_logprobs(model, seq, cfg)
    first = region.start - lo
    return logp[first : first + region.length]


# --- gene lanes ------------------------------------------------------------------------------


def _span(gene: Gene) -> tuple[int, int] | None:
    try:
        return gene.start, gene.end
    except ValueError:  # no transcripts and no annotated coordinates
        return None


def lane_items(ann: Annotation, region: Region) -> list[tuple[str, Transcript | Gene]]:
    """(label, transcript or bare gene) overlapping the region, in genomic order. A gene's
    transcripts each get a row; single-transcript genes are labelled with the gene ID."""
    items = []
    for gene in ann.genes.get(region.seqid, []):
        span = _span(gene)
        if span is None or span[1] < region.start or span[0] > region.end:
            continue
        txs = [t for t in gene.transcripts if t.cds or t.exons]
        if not txs:
            items.append((gene.id, gene))
        for t in txs:
            items.append((gene.id if len(txs) == 1 else t.id, t))
    items.sort(key=lambda it: (it[1].start, it[1].end))
    return items


def pack_rows(spans: list[tuple[int, int]], gap: int = 0, max_rows: int = MAX_ROWS) -> list[int]:
    """Row per (start, end) span, sorted by start: greedy, first row where it does not overlap
    (with `gap` bases of room for labels); rows past `max_rows` fold into the last."""
    row_ends: list[int] = []
    rows = []
    for start, end in spans:
        for r, last in enumerate(row_ends):
            if start > last + gap:
                row_ends[r] = end
                rows.append(r)
                break
        else:
            if len(row_ends) < max_rows:
                row_ends.append(end)
                rows.append(len(row_ends) - 1)
            else:
                row_ends[-1] = max(row_ends[-1], end)
                rows.append(max_rows - 1)
    return rows


def _draw_item(ax, item: Transcript | Gene, y: float, region: Region, label: str, px_per_base: float) -> None:
    from matplotlib.patches import Polygon, Rectangle

    colour = STRAND_COLOURS.get(item.strand, OTHER_COLOUR)
    start, end = item.start, item.end
    ax.plot([start - 0.5, end + 0.5], [y, y], color=colour, lw=0.8, solid_capstyle="butt", zorder=1)
    if isinstance(item, Transcript):
        for seg in item.exons:  # UTR parts show as thin boxes under the CDS
            ax.add_patch(Rectangle((seg.start - 0.5, y - 0.12), seg.length, 0.24, color=colour, alpha=0.45, lw=0, zorder=2))
        for seg in item.cds:
            ax.add_patch(Rectangle((seg.start - 0.5, y - 0.3), seg.length, 0.6, color=colour, lw=0, zorder=3))
    else:
        ax.add_patch(Rectangle((start - 0.5, y - 0.12), end - start + 1, 0.24, color=colour, alpha=0.45, lw=0, zorder=2))
    # Strand: a triangle just past the 3' end, a fixed 6 px wide whatever the zoom.
    tip = 6 / max(px_per_base, 1e-9)
    if item.strand in ("+", "-"):
        x0, sign = (end + 0.5, 1) if item.strand == "+" else (start - 0.5, -1)
        ax.add_patch(Polygon([(x0, y - 0.3), (x0, y + 0.3), (x0 + sign * tip, y)], closed=True, color=colour, lw=0, zorder=3))
    # The label, centred on the visible part, when the text fits inside it.
    lo, hi = max(start, region.start), min(end, region.end)
    text_px = len(label) * 6.5 * 0.62 * ax.figure.dpi / 72
    if (hi - lo + 1) * px_per_base >= text_px:
        ax.text((lo + hi) / 2, y - 0.36, label, ha="center", va="top", fontsize=6.5, clip_on=True, zorder=4)


def draw_lane(ax, ann: Annotation, region: Region, name: str, gap: int = 0) -> None:
    items = lane_items(ann, region)
    px_per_base = ax.get_window_extent().width / region.length
    rows = pack_rows([(it.start, it.end) for _, it in items], gap=gap)
    n_rows = max(rows, default=0) + 1
    for (label, item), row in zip(items, rows):
        _draw_item(ax, item, -1.0 * row, region, label, px_per_base)
    ax.set_ylim(-1.0 * (n_rows - 1) - 0.75, 0.6)
    ax.set_yticks([])
    ax.set_ylabel(name, rotation=0, ha="right", va="center", fontsize=9)
    for side in ("left", "right", "top"):
        ax.spines[side].set_visible(False)
    if not items:
        ax.text(0.5, 0.5, "no genes in this region", transform=ax.transAxes, ha="center", va="center",
                fontsize=8, color="#888888")


def lane_rows(ann: Annotation, region: Region, gap: int = 0) -> int:
    """Rows a lane will need (for sizing the figure before drawing)."""
    rows = pack_rows([(it.start, it.end) for _, it in lane_items(ann, region)], gap=gap)
    return max(rows, default=0) + 1


# --- probability panels ----------------------------------------------------------------------

_MAX_POINTS = 6000  # beyond this, plot a binned mean with a min-max band


def _plot_track(ax, x: np.ndarray, values: np.ndarray, colour: str, label: str) -> None:
    if len(values) <= _MAX_POINTS:
        ax.plot(x, values, color=colour, lw=0.8, label=label)
        return
    size = -(-len(values) // (_MAX_POINTS // 2))  # bases per bin; the last bin is NaN-padded
    pad = (-len(values)) % size
    binned = np.concatenate([values, np.full(pad, np.nan)]).reshape(-1, size)
    centres = np.concatenate([x.astype(np.float64), np.full(pad, np.nan)]).reshape(-1, size)
    centres = np.nanmean(centres, axis=1)
    ax.fill_between(centres, np.nanmin(binned, axis=1), np.nanmax(binned, axis=1), color=colour, alpha=0.25, lw=0)
    ax.plot(centres, np.nanmean(binned, axis=1), color=colour, lw=0.8, label=label)


def draw_probabilities(ax, logp: np.ndarray, region: Region, frames: bool = False) -> None:
    from genet5.predict.tracks import frame_probs, track

    x = np.arange(region.start, region.end + 1)
    if frames:
        for k, colour in enumerate(("#2ca02c", "#9467bd", "#8c564b")):
            _plot_track(ax, x, frame_probs(logp)[:, k], colour, f"codon position {k}")
        ax.set_ylabel("P(codon\nposition)", rotation=0, ha="right", va="center", fontsize=9)
    else:
        _plot_track(ax, x, track(logp, "coding"), "#1f77b4", "P(coding)")
        _plot_track(ax, x, track(logp, "intron"), "#ff7f0e", "P(intron)")
        ax.set_ylabel("model", rotation=0, ha="right", va="center", fontsize=9)
    ax.set_ylim(-0.03, 1.03)
    ax.set_yticks([0, 0.5, 1])
    ax.tick_params(axis="y", labelsize=7)
    ax.grid(axis="y", lw=0.3, alpha=0.5)
    ax.legend(loc="upper right", fontsize=7, ncol=3, frameon=False)


# --- the figure ------------------------------------------------------------------------------


def plot_region(
    output: str | Path,
    region: Region,
    lanes: list[tuple[str, Annotation]],
    logp: np.ndarray | None = None,
    frames: bool = False,
    title: str | None = None,
    width: float = 12.0,
    dpi: int = 150,
) -> None:
    """Draw the region and write it (atomically) to `output`; the format comes from its suffix."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.patches import Patch
    from matplotlib.ticker import FuncFormatter

    from genet5.atomic import atomic_write

    fmt = Path(output).suffix.lstrip(".").lower() or "png"
    # Genes in one row stay 10 px apart, so strand triangles never touch (labels sit inside
    # their gene's width, so they need no room of their own).
    left, right = 0.1, 0.98
    px_per_base = width * (right - left) * matplotlib.rcParams["figure.dpi"] / region.length
    gap = int(np.ceil(10 / px_per_base))
    panels: list[tuple[str, float]] = []  # (kind, height in inches)
    if logp is not None:
        panels.append(("prob", 1.6))
        if frames:
            panels.append(("frames", 1.3))
    for name, ann in lanes:
        panels.append((name, 0.45 + 0.38 * lane_rows(ann, region, gap)))
    fig, axes = plt.subplots(
        len(panels), 1, sharex=True, squeeze=False, figsize=(width, sum(h for _, h in panels) + 0.9),
        gridspec_kw={"height_ratios": [h for _, h in panels]},
    )
    try:
        if fmt not in fig.canvas.get_supported_filetypes():
            raise ValueError(f"{output}: unknown image format {fmt!r} (use .png, .pdf or .svg)")
        axes = axes[:, 0]
        axes[0].set_xlim(region.start - 0.5, region.end + 0.5)
        fig.subplots_adjust(left=left, right=right, top=1 - 0.45 / fig.get_figheight(),
                            bottom=0.45 / fig.get_figheight(), hspace=0.15)
        annotations = dict(lanes)
        for ax, (kind, _) in zip(axes, panels):
            if kind == "prob":
                draw_probabilities(ax, logp, region)
            elif kind == "frames":
                draw_probabilities(ax, logp, region, frames=True)
            else:
                draw_lane(ax, annotations[kind], region, kind, gap)
        axes[-1].xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{int(round(v)):,}"))
        axes[-1].set_xlabel(f"{region.seqid} (1-based)", fontsize=9)
        axes[0].set_title(title or f"{region}  ({region.length:,} bp)", fontsize=10, loc="left")
        if lanes:
            fig.legend(handles=[Patch(color=STRAND_COLOURS["+"], label="+ strand"),
                                Patch(color=STRAND_COLOURS["-"], label="- strand")],
                       loc="upper right", bbox_to_anchor=(right, 1.0), fontsize=7, ncol=2, frameon=False)
        with atomic_write(output, "wb") as fh:
            fig.savefig(fh, format=fmt, dpi=dpi)
    finally:
        plt.close(fig)
