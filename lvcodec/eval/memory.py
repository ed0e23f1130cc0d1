"""Peak resident memory while a block runs.

getrusage's ru_maxrss is the process's lifetime peak, so after the first big codec it stops moving;
tracemalloc sees only Python allocations, not libx265's or torch's. Instead a thread samples the
resident set from /proc/self/statm every few milliseconds. `peak_mb` is the highest resident set of
the whole process seen during the block (interpreter, loaded frames and libraries included);
`extra_mb` is that minus the resident set at entry — the block's own working memory, to within the
sampling interval. Without /proc (not Linux) both fall back to ru_maxrss figures.
"""

import os
import resource
import threading

__all__ = ["PeakRSS"]

_PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096


def _rss_bytes() -> int | None:
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * _PAGE
    except (OSError, ValueError, IndexError):
        return None


def _maxrss_bytes() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # kB on Linux


class PeakRSS:
    def __init__(self, interval: float = 0.005):
        self.interval = interval
        self.peak_mb = self.extra_mb = 0.0

    def __enter__(self):
        self._start = _rss_bytes()
        self._peak = self._start or 0
        self._fallback_start = _maxrss_bytes()
        self._stop = threading.Event()
        if self._start is not None:
            self._thread = threading.Thread(target=self._sample, daemon=True)
            self._thread.start()
        return self

    def _sample(self):
        while not self._stop.wait(self.interval):
            rss = _rss_bytes()
            if rss is not None and rss > self._peak:
                self._peak = rss

    def __exit__(self, *exc):
        self._stop.set()
        if self._start is not None:
            self._thread.join()
            self._peak = max(self._peak, _rss_bytes() or 0)
            self.peak_mb = self._peak / 2**20
            self.extra_mb = (self._peak - self._start) / 2**20
        else:
            end = _maxrss_bytes()
            self.peak_mb = end / 2**20
            self.extra_mb = (end - self._fallback_start) / 2**20
        return False
