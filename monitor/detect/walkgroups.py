"""Walking evidence for the automatic baseline (monitor.detect.baseline), kept per posture.

Each walking hop gives the gravity direction g over its window (sensor frame) and the horizontal and
vertical acceleration demodulated at its cadence, H (3, complex) and V (complex). Hops whose g lie within
`group_deg` of a group's mean join it; each group sums g x duration, C = Re(sum H H^*), X = sum H V^*
and its walking time. Walking and rocking on a foam roller (the trunk horizontal) are then two groups
some 80 deg apart instead of one mixed sum, and the baseline takes the group that lies near the wearer's
upright still posture: the group with most still time near it (`best`), switching when later evidence
moves it (a morning on the roller, then hours at the desk). Bounded: `max_groups` (the group
with least time goes first); a group stops growing after `max_s` of walking.
"""

from __future__ import annotations

import math

import numpy as np


class WalkGroups:
    """Walking sums per posture (see the module docstring)."""

    def __init__(self, group_deg: float = 25.0, max_groups: int = 8, max_s: float = 600.0) -> None:
        self._cos = math.cos(math.radians(group_deg))
        self._max = max_groups
        self.max_s = max_s
        self.up = np.zeros((0, 3))  #: per group: sum of g x duration
        self.C = np.zeros((0, 3, 3))  #: Re(sum H H^*)
        self.X = np.zeros((0, 3), dtype=complex)  #: sum H V^*
        self.time_s = np.zeros(0)  #: walking time, s

    def _dirs(self) -> np.ndarray:
        return self.up / np.maximum(np.linalg.norm(self.up, axis=1, keepdims=True), 1e-12)

    def full(self, g: np.ndarray) -> bool:
        """The group g would join has max_s of walking already."""
        if not len(self.time_s):
            return False
        cos = self._dirs() @ g
        k = int(np.argmax(cos))
        return bool(cos[k] >= self._cos and self.time_s[k] >= self.max_s)

    def add(self, g: np.ndarray, H: np.ndarray, V: complex, dur_s: float) -> None:
        if len(self.time_s):
            cos = self._dirs() @ g
            k = int(np.argmax(cos))
            if cos[k] >= self._cos:
                if self.time_s[k] < self.max_s:
                    self.up[k] += g * dur_s
                    self.C[k] += np.real(np.outer(H, H.conj()))
                    self.X[k] += H * V.conjugate()
                    self.time_s[k] += dur_s
                return
            if len(self.time_s) >= self._max:
                k = int(np.argmin(self.time_s))
                self.up, self.C = np.delete(self.up, k, axis=0), np.delete(self.C, k, axis=0)
                self.X, self.time_s = np.delete(self.X, k, axis=0), np.delete(self.time_s, k)
        self.up = np.vstack((self.up, g * dur_s))
        self.C = np.concatenate((self.C, np.real(np.outer(H, H.conj()))[None]))
        self.X = np.vstack((self.X, (H * V.conjugate())[None]))
        self.time_s = np.append(self.time_s, dur_s)

    def best(self, still_up: np.ndarray, still_s: np.ndarray, within_deg: float, min_s: float) -> int | None:
        """Of the groups with min_s of walking, the one with most still time (still_up (N,3) unit postures
        with still_s (N,) seconds) within within_deg of it; ties (no still time yet) go to walking time."""
        ok = self.time_s >= min_s
        if not ok.any():
            return None
        near = (self._dirs() @ still_up.T >= math.cos(math.radians(within_deg))) @ still_s if len(still_s) else 0.0
        score = np.where(ok, near + 1e-6 * self.time_s, -1.0)
        return int(np.argmax(score))

    def direction(self, k: int) -> np.ndarray:
        return self._dirs()[k]


def demodulate(t: np.ndarray, a: np.ndarray, cadence_hz: float) -> tuple[np.ndarray, np.ndarray, complex]:
    """A walking hop's window: (g unit gravity direction, H horizontal and V vertical acceleration
    demodulated at the cadence, Hann tapered; see monitor.detect.baseline, 2)."""
    g = a.mean(axis=0)  # gravity over the window (the walking acceleration averages out)
    g /= max(float(np.linalg.norm(g)), 1e-9)
    along = a @ g
    v = along - along.mean()
    hz = a - along[:, None] * g
    hz -= hz.mean(axis=0)
    w = np.hanning(len(t)) * np.exp(-2j * np.pi * cadence_hz * (t - t[0]))
    return g, w @ hz, complex(w @ v)


def forward_axis(C: np.ndarray, X: np.ndarray, min_ap_ratio: float, min_phase_deg: float) -> np.ndarray | None:
    """Forward from a group's sums: the principal axis of C when it is min_ap_ratio times the next, signed
    so that forward leads the vertical (Im(a . X) > 0); None when the axis or the phase is unclear."""
    evals, evecs = np.linalg.eigh(C)
    ax = evecs[:, -1]
    cross = complex(ax @ X)
    sin = cross.imag / max(abs(cross), 1e-12)
    if evals[-1] >= min_ap_ratio * max(evals[-2], 1e-12) and abs(sin) >= math.sin(math.radians(min_phase_deg)):
        return ax if sin > 0 else -ax
    return None


__all__ = ["WalkGroups", "demodulate", "forward_axis"]
