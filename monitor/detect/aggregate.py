"""Fixed windows (default 10 s, aligned to multiples of the window on the t_s timeline) -> Aggregate.

Per window: mean/min/max of lean and flexion over the samples with a known angle, the activity that
covers most of the window (from the classifier's hops), steps (cadence x walking time), and the worn
fraction (samples present / samples expected at the median rate). A window is closed once samples past
its end have been seen and the activity decisions cover it; a window without samples is not emitted.
The reductions are numpy `reduceat` over the bins of a batch: no per-sample Python.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from monitor.detect.activity import Hop
from monitor.detect.errors import DetectError
from monitor.events import Activity, Aggregate


@dataclass(frozen=True, slots=True)
class AggregateParams:
    window_s: float = 10.0  #: window length, s

    def __post_init__(self) -> None:
        if not self.window_s > 0:
            raise DetectError(f"window_s must be > 0, got {self.window_s}")


class Aggregator:
    def __init__(self, params: AggregateParams = AggregateParams()) -> None:
        self.params = params
        self._t = np.zeros(0)
        self._lean = np.zeros(0)
        self._flex = np.zeros(0)
        self._hops: list[Hop] = []
        self._dt = math.nan

    def feed(
        self, t_s: np.ndarray, lean_deg: np.ndarray, flexion_deg: np.ndarray, hops: list[Hop]
    ) -> list[Aggregate]:
        self._t = np.concatenate((self._t, np.asarray(t_s, dtype=np.float64)))
        self._lean = np.concatenate((self._lean, np.asarray(lean_deg, dtype=np.float64)))
        self._flex = np.concatenate((self._flex, np.asarray(flexion_deg, dtype=np.float64)))
        self._hops.extend(hops)
        if not math.isfinite(self._dt) and len(self._t) > 10:
            self._dt = float(np.median(np.diff(self._t)))
        if not self._hops or len(self._t) == 0:
            return []
        w = self.params.window_s
        covered = self._hops[-1].end_s
        limit = min(
            math.floor(self._t[-1] / w), math.floor(covered / w)
        )  # windows below this index are complete
        return self._emit(limit)

    def finish(self) -> list[Aggregate]:
        if len(self._t) == 0:
            return []
        return self._emit(math.floor(self._t[-1] / self.params.window_s) + 1)

    def _emit(self, limit: int) -> list[Aggregate]:
        w = self.params.window_s
        bins = np.floor(self._t / w).astype(np.int64)
        n_done = int(np.searchsorted(bins, limit, side="left"))
        if n_done == 0:
            return []
        b = bins[:n_done]
        starts = np.concatenate(([0], np.flatnonzero(np.diff(b)) + 1))
        counts = np.diff(np.concatenate((starts, [n_done])))
        out: list[Aggregate] = []
        stats = []
        for arr in (self._lean[:n_done], self._flex[:n_done]):
            ok = np.isfinite(arr)
            n_ok = np.add.reduceat(ok.astype(np.int64), starts)
            mean = np.add.reduceat(np.where(ok, arr, 0.0), starts) / np.maximum(n_ok, 1)
            lo = np.minimum.reduceat(np.where(ok, arr, np.inf), starts)
            hi = np.maximum.reduceat(np.where(ok, arr, -np.inf), starts)
            nan = n_ok == 0
            stats.append((np.where(nan, np.nan, mean), np.where(nan, np.nan, lo), np.where(nan, np.nan, hi)))
        expected = w / self._dt if math.isfinite(self._dt) and self._dt > 0 else float(counts.max())
        for j, s in enumerate(starts.tolist()):
            w0 = float(b[s]) * w
            act, steps = self._activity(w0, w0 + w)
            out.append(
                Aggregate(
                    w0,
                    w,
                    float(stats[0][0][j]),
                    float(stats[0][1][j]),
                    float(stats[0][2][j]),
                    float(stats[1][0][j]),
                    float(stats[1][1][j]),
                    float(stats[1][2][j]),
                    act,
                    steps,
                    min(1.0, float(counts[j]) / expected),
                )
            )
        self._t, self._lean, self._flex = self._t[n_done:], self._lean[n_done:], self._flex[n_done:]
        last_end = float(b[-1] + 1) * w
        self._hops = [h for h in self._hops if h.end_s > last_end]
        return out

    def _activity(self, a: float, b: float) -> tuple[Activity, int]:
        share: dict[Activity, float] = {}
        steps = 0.0
        for h in self._hops:
            if h.end_s <= a or h.start_s >= b:
                continue
            ov = min(b, h.end_s) - max(a, h.start_s)
            share[h.activity] = share.get(h.activity, 0.0) + ov
            steps += h.cadence_hz * ov
        if not share:
            return Activity.UNKNOWN, 0
        return max(share, key=lambda k: share[k]), int(round(steps))


__all__ = ["AggregateParams", "Aggregator"]
