"""Still time per posture: unit earth-up directions (sensor frame) clustered within `cluster_deg`, with the
still time of each, bounded to `max_postures` (the least held one goes). The automatic baseline
(monitor.detect.baseline) keeps one before the first walk, to choose and to overturn its provisional upright."""

from __future__ import annotations

import math

import numpy as np


class StillPostures:
    """Still time per posture (hops within cluster_deg of each other), bounded; for the provisional upright."""

    def __init__(self, cluster_deg: float, max_postures: int) -> None:
        self._cos = math.cos(math.radians(cluster_deg))
        self._max = max_postures
        self.sums = np.zeros((0, 3))
        self.times = np.zeros(0)
        self._units = np.zeros((0, 3))  # sums, each scaled to unit length (kept with them: one per hop is cheap)

    def add(self, u: np.ndarray, dur_s: float) -> None:
        m = u.sum(axis=0)
        m /= math.sqrt(float(m @ m))
        if len(self.times):
            cos = self._units @ m
            k = int(cos.argmax())
            if cos[k] >= self._cos:
                s = self.sums[k]
                s += m * dur_s
                self._units[k] = s / math.sqrt(float(s @ s))
                self.times[k] += dur_s
                return
            if len(self.times) >= self._max:
                k = int(self.times.argmin())
                self.sums, self.times = np.delete(self.sums, k, axis=0), np.delete(self.times, k)
                self._units = np.delete(self._units, k, axis=0)
        self.sums, self.times = np.vstack((self.sums, m * dur_s)), np.append(self.times, dur_s)
        self._units = np.vstack((self._units, m))

    @property
    def units(self) -> np.ndarray:
        """(N, 3): each posture's direction, its sum scaled to unit length (do not modify)."""
        return self._units

    def replace(self, sums: np.ndarray, times: np.ndarray) -> None:
        """Hold these postures instead (still time judged again against a new upright)."""
        self.sums, self.times = sums, times
        self._units = sums / np.linalg.norm(sums, axis=1, keepdims=True)

    def overtaken(self, up: np.ndarray, ratio: float = 3.0, far_deg: float = 45.0) -> np.ndarray | None:
        """A posture far from `up` (not a lean or a slouch of it) with `ratio` times its still time."""
        if not len(self.times):
            return None
        c = self._units
        own = float(self.times[c @ up >= self._cos].sum())
        far = (c @ up < math.cos(math.radians(far_deg))) & (self.times >= ratio * max(own, 1.0))
        if not far.any():
            return None
        k = int(np.argmax(np.where(far, self.times, -1.0)))
        return c[k]


__all__ = ["StillPostures"]
