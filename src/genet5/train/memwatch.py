"""Background thread sampling process RSS and CUDA memory to a CSV file."""

from __future__ import annotations

import csv
import os
import resource
import threading
import time
from pathlib import Path

import torch


def rss_mb() -> float:
    """Current resident set size in MiB (Linux /proc; falls back to the peak from getrusage)."""
    try:
        with open("/proc/self/statm") as f:
            pages = int(f.read().split()[1])
        return pages * os.sysconf("SC_PAGE_SIZE") / 2**20
    except (OSError, ValueError, IndexError):
        return peak_rss_mb()


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


class MemWatch:
    """`with MemWatch("mem.csv", interval=1.0): train()` writes one row per interval.

    Columns: time_s, rss_mb, peak_rss_mb, cuda_alloc_mb, cuda_reserved_mb, cuda_peak_mb.
    """

    FIELDS = ["time_s", "rss_mb", "peak_rss_mb", "cuda_alloc_mb", "cuda_reserved_mb", "cuda_peak_mb"]

    def __init__(self, path: str | Path, interval: float = 1.0) -> None:
        self.path = Path(path)
        self.interval = interval
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.samples = 0

    def sample(self) -> dict[str, float]:
        row = {"time_s": time.time(), "rss_mb": rss_mb(), "peak_rss_mb": peak_rss_mb()}
        cuda = torch.cuda.is_available() and torch.cuda.is_initialized()
        row["cuda_alloc_mb"] = torch.cuda.memory_allocated() / 2**20 if cuda else 0.0
        row["cuda_reserved_mb"] = torch.cuda.memory_reserved() / 2**20 if cuda else 0.0
        row["cuda_peak_mb"] = torch.cuda.max_memory_allocated() / 2**20 if cuda else 0.0
        return row

    def _run(self) -> None:
        new = not self.path.exists()
        with self.path.open("a", newline="") as f:
            w = csv.DictWriter(f, fieldnames=self.FIELDS)
            if new:
                w.writeheader()
            while True:
                w.writerow({k: round(v, 3) for k, v in self.sample().items()})
                f.flush()
                self.samples += 1
                if self._stop.wait(self.interval):
                    break

    def start(self) -> "MemWatch":
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._thread = threading.Thread(target=self._run, name="memwatch", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None

    def __enter__(self) -> "MemWatch":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
