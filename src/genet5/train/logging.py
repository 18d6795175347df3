"""Metric logging on rank 0: CSV (always), TensorBoard (if installed), rich progress with tokens/s."""

from __future__ import annotations

import csv
import math
import sys
import time
from pathlib import Path
from typing import Any


class CSVLogger:
    """One CSV per stream (train.csv, val.csv). Columns are fixed by the first row written.

    On resume the rows past the resumed step (written by the killed run after its last
    checkpoint) are dropped, so the file shows one continuous curve.
    """

    def __init__(self, path: str | Path, resume_step: int | None = None) -> None:
        self.path = Path(path)
        self.fields: list[str] | None = None
        if self.path.exists():
            with self.path.open(newline="") as f:
                rows = list(csv.DictReader(f))
                self.fields = list(rows[0].keys()) if rows else None
            if resume_step is None:
                rows = []
                self.fields = None
                self.path.unlink()
            else:
                rows = [r for r in rows if int(float(r.get("step", 0))) <= resume_step]
                if self.fields:
                    self._rewrite(rows)

    def _rewrite(self, rows: list[dict[str, Any]]) -> None:
        tmp = self.path.with_suffix(".csv.tmp")
        with tmp.open("w", newline="") as f:
            w = csv.DictWriter(f, fieldnames=self.fields)
            w.writeheader()
            w.writerows(rows)
        tmp.replace(self.path)

    def log(self, row: dict[str, Any]) -> None:
        new = self.fields is None
        if new:
            self.fields = list(row.keys())
            self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.path.open("a" if not new else "w", newline="") as f:
            w = csv.DictWriter(f, fieldnames=self.fields, extrasaction="ignore")
            if new:
                w.writeheader()
            w.writerow(row)


class MetricLogger:
    """Fan-out to CSV + TensorBoard + a rich progress bar. A no-op on ranks other than 0."""

    def __init__(
        self,
        out_dir: str | Path,
        *,
        enabled: bool = True,
        tensorboard: bool = True,
        progress: bool = True,
        total_steps: int = 0,
        start_step: int = 0,
    ) -> None:
        self.enabled = enabled
        self.out = Path(out_dir)
        self.csv: dict[str, CSVLogger] = {}
        self.start_step = start_step
        self.tb = None
        self.progress = None
        self.plain = False
        if not enabled:
            return
        self.out.mkdir(parents=True, exist_ok=True)
        for stream in ("train", "val"):
            self.csv[stream] = CSVLogger(self.out / f"{stream}.csv", resume_step=start_step if start_step else None)
        if tensorboard:
            try:
                from torch.utils.tensorboard import SummaryWriter

                # a resumed run hides what the killed one logged after its checkpoint (steps past
                # start_step), as the CSVs drop those rows; the checkpoint's own step stays
                self.tb = SummaryWriter(str(self.out / "tb"), purge_step=start_step + 1 if start_step else None)
            except ImportError:  # tensorboard is optional
                self.tb = None
        self.total_steps = total_steps
        # a log file or a pipe gets no live bar (rich draws nothing there): one line per log step
        self.plain = progress and not sys.stderr.isatty()
        self._last_line = time.monotonic()
        if progress and not self.plain:
            from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

            self.progress = Progress(
                TextColumn("step {task.completed}/{task.total}"),
                BarColumn(),
                TextColumn("{task.fields[info]}"),
                TimeRemainingColumn(),
                transient=False,
            )
            self.task = self.progress.add_task("train", total=total_steps, completed=start_step, info="")
            self.progress.start()

    def log(self, stream: str, step: int, metrics: dict[str, float]) -> None:
        if not self.enabled:
            return
        row = {"step": step, **{k: _num(v) for k, v in metrics.items()}}
        if stream not in self.csv:
            self.csv[stream] = CSVLogger(self.out / f"{stream}.csv")
        self.csv[stream].log(row)
        if self.tb is not None:
            for k, v in row.items():
                if k != "step" and isinstance(v, (int, float)) and math.isfinite(v):
                    self.tb.add_scalar(f"{stream}/{k}", v, step)
        if stream == "train" and (self.progress is not None or self.plain):
            info = f"loss {row.get('loss', float('nan')):.4f}  {row.get('tokens_per_s', 0):,.0f} tok/s"
            if self.plain:
                print(f"step {step}/{self.total_steps}: {info}", file=sys.stderr, flush=True)
                self._last_line = time.monotonic()
            else:
                self.progress.update(self.task, completed=step, info=info)

    def advance(self, step: int) -> None:
        if self.progress is not None:
            self.progress.update(self.task, completed=step)
        elif self.plain and time.monotonic() - self._last_line >= 30:  # slow steps: say we are alive
            print(f"step {step}/{self.total_steps}", file=sys.stderr, flush=True)
            self._last_line = time.monotonic()

    def close(self) -> None:
        if self.progress is not None:
            self.progress.stop()
            self.progress = None
        if self.tb is not None:
            self.tb.close()
            self.tb = None


def _num(v: Any) -> Any:
    if hasattr(v, "item"):
        return v.item()
    return v


class Throughput:
    """Tokens/s over the steps since the last `rate()` call."""

    def __init__(self) -> None:
        self.t0 = time.perf_counter()
        self.tokens = 0.0

    def add(self, n: float) -> None:
        self.tokens += n

    def rate(self) -> float:
        now = time.perf_counter()
        r = self.tokens / max(now - self.t0, 1e-9)
        self.t0, self.tokens = now, 0.0
        return r
