"""Foam rolling: lying on the back or side over a roller and rolling along the spine.

Theory of operation. The wearer lies with the trunk near horizontal: on the back (flexion at most
`-lying_deg`, the trunk tipped backward) or on one side (|lean| at least `lying_deg`, flexion within
`upright_flex_deg`); a forward bend, however deep, is not lying. Rolling moves the body to and fro along
the roller at 0.2-1 Hz, and the trunk rocks over it by a few degrees each time: in 10 s windows every 2.5
s, on a 25 Hz grid, the tilt about the gyro's principal axis (from the fused up direction) must rock the up
direction by at least `rock_deg` (5th to 95th percentile, linear trend removed; the up direction's own sweep: the
angle about the axis times the sine of the axis's angle from the vertical) with a clear period of 1-5 s
(autocorrelation at least `periodicity`, corrected for the biased estimate's shrinking with the lag) and
no faster rhythm (steps, pedalling) under it, while the body is not jolted up and down
(std of |acc| at most `max_jolt_ms2`: rolling moves it along the floor, stepping or training lifts it).
Lying still (breathing moves the trunk by a fraction of a degree), turning over, or getting up does not
pass. Windows that pass are joined across pauses of at most `bridge_s`; a session needs `min_rolling_s` of
rolling and is reported once it has ended, from a quarter window after the first passing window's start
to a quarter window before the last one's end (a window passes once rolling fills about its middle).
Without the mounting (no calibration and no automatic baseline yet) lying can not be judged and nothing is
reported. The windows that rock like a roller whatever the posture (`rocking`) are kept then, and while the
mounting is the automatic baseline's provisional guess (`rocks`): a day that begins on the roller must not
have its still pauses between bouts taken for upright (monitor.detect.baseline).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from monitor.detect.windows import Window, WindowBuffer, autocorrelation, best_period, faster_rhythm
from monitor.events import FoamRolling
from monitor.pipeline.angles import angles_from_up


@dataclass(frozen=True, slots=True)
class FoamParams:
    window_s: float = 10.0  #: analysis window, s
    hop_s: float = 2.5  #: a window every, s
    rate_hz: float = 25.0  #: analysis grid, Hz
    lying_deg: float = 50.0  #: lying: flexion <= -this (back) or |lean| >= this (side), deg
    upright_flex_deg: float = 40.0  #: lying on a side: |flexion| below this, deg
    min_hz: float = 0.2  #: slowest rolling, Hz
    max_hz: float = 1.0  #: fastest rolling, Hz
    rock_deg: float = 2.0  #: the trunk rocks at least this much (5th-95th percentile), deg
    max_jolt_ms2: float = 1.5  #: std of |acc| at most (stepping or training jolts the body up and down), m/s^2
    periodicity: float = 0.5  #: autocorrelation at the rolling period at least
    bridge_s: float = 45.0  #: longest pause inside one session, s
    min_rolling_s: float = 30.0  #: rolling a session needs, s


def lying_side(up_b: np.ndarray, p: FoamParams) -> str | None:
    """"back", "left", "right" if the mean body-frame up direction up_b (N,3) is lying that way, else None."""
    lean, flex = angles_from_up(np.mean(up_b, axis=0))
    if flex <= -p.lying_deg:
        return "back"
    if abs(lean) >= p.lying_deg and abs(flex) < p.upright_flex_deg:
        return "right" if lean > 0 else "left"
    return None


def rolling(w: Window, p: FoamParams) -> str | None:
    """The side lain on if the window (channels up_s x3, gyr x3, up_b x3, acc x3) shows rolling, else None."""
    up_b = w.x[:, 6:9]
    if not np.isfinite(up_b).all():
        return None
    side = lying_side(up_b, p)
    if side is None or not rocking(w, p):
        return None
    return side


def rocking(w: Window, p: FoamParams) -> bool:
    """The window (channels as for `rolling`) shows a roller's rock, whatever the posture: the trunk rocks
    about a horizontal axis at min_hz..max_hz, steadily, with no jolts (the test of `rolling` without its
    lying test, which needs the mounting)."""
    up, gyr, acc = w.x[:, 0:3], w.x[:, 3:6], w.x[:, 9:12]
    if float(np.linalg.norm(acc, axis=1).std()) > p.max_jolt_ms2:
        return False
    up = up / np.linalg.norm(up, axis=1, keepdims=True)
    _, _, vt = np.linalg.svd(gyr - gyr.mean(axis=0), full_matrices=False)
    ax = vt[0]
    um = up.mean(axis=0)
    e1 = um - ax * float(um @ ax)
    lever = float(np.linalg.norm(e1))  # sine of the angle between the axis and the vertical
    if lever < 0.2:  # rocking about the vertical is turning, not rolling
        return False
    e1 /= lever
    tilt = np.arctan2(up @ np.cross(ax, e1), up @ e1)
    tilt = tilt - np.polyval(np.polyfit(w.t_s - w.t_s[0], tilt, 1), w.t_s - w.t_s[0])  # the body settling
    # the angle the up direction itself sweeps: a turn by `tilt` about an axis tipped from the vertical moves
    # it by lever * tilt (lying still, the gyro's principal axis is any axis, often near the vertical, where the
    # angle about it magnifies the fusion's small wander: 3 deg from 0.5 deg/s on session day 4100)
    rock = math.degrees(lever * float(np.percentile(tilt, 95) - np.percentile(tilt, 5)))
    ac = autocorrelation(tilt)
    period, r = best_period(ac, p.rate_hz, 1.0 / p.max_hz, 1.0 / p.min_hz)
    steady = math.isfinite(period) and not faster_rhythm(ac, p.rate_hz, period)
    if steady:  # the biased estimate shrinks with the lag (by (N - lag) / N): undone, slow rolling passes too
        r *= len(ac) / (len(ac) - period * p.rate_hz)
    return steady and rock >= p.rock_deg and r >= p.periodicity


class FoamDetector:
    """Streaming: feed samples, get FoamRolling events once each session has ended."""

    def __init__(self, params: FoamParams = FoamParams()) -> None:
        self.params = params
        self._buf = WindowBuffer(params.window_s, params.hop_s, params.rate_hz)
        self._runs: list[tuple[float, float, str]] = []  # rolling windows of the open session: (start, end, side)
        #: without a mounting: windows that rock like a roller, (start, end) s, for the automatic baseline
        #: to take (it clears the list), and the end of the last window judged, s
        self.rocks: list[tuple[float, float]] = []
        self.rocks_judged_s = -math.inf

    def feed(self, t_s: np.ndarray, up_s: np.ndarray, gyr: np.ndarray, acc: np.ndarray, R_bs: np.ndarray | None,
             keep_rocks: bool = False) -> list[FoamRolling]:
        """Samples: t_s (N,) s; up_s (N,3) the fused up direction, gyr (N,3) rad/s and acc (N,3) m/s^2 in the
        sensor frame; R_bs the mounting (None while unknown); keep_rocks: keep the windows that rock in
        `rocks` (the mounting, if any, is the automatic baseline's provisional guess)."""
        up_b = up_s @ R_bs.T if R_bs is not None else np.full((len(t_s), 3), np.nan)
        out: list[FoamRolling] = []
        for w in self._buf.feed(t_s, np.column_stack([up_s, gyr, up_b, acc])):
            if w is None:
                continue
            if keep_rocks:  # lying can not be judged (soundly): the rock is kept, for the automatic baseline
                if rocking(w, self.params):
                    self.rocks.append((w.start_s, w.start_s + self.params.window_s))
                self.rocks_judged_s = w.start_s + self.params.window_s
            side = rolling(w, self.params)
            if self._runs and w.start_s - self._runs[-1][1] > self.params.bridge_s:
                out += self._close()
            if side is not None:
                self._runs.append((w.start_s, w.start_s + self.params.window_s, side))
        return out

    def finish(self) -> list[FoamRolling]:
        """End of data: report a session still open."""
        return self._close()

    @property
    def in_session(self) -> bool:
        """A session is open (rolling within the last `bridge_s`, pauses included)."""
        return bool(self._runs)

    def _close(self) -> list[FoamRolling]:
        runs, self._runs = self._runs, []
        if not runs:
            return []
        p = self.params
        rolling_s, reach = 0.0, -math.inf  # the union of the rolling windows' middle halves
        for a, b, _ in runs:
            a, b = a + (b - a) / 4, b - (b - a) / 4
            rolling_s += max(0.0, b - max(a, reach))
            reach = max(reach, b)
        if rolling_s < p.min_rolling_s:
            return []
        sides = [r[2] for r in runs]
        side = max(set(sides), key=sides.count)
        q = p.window_s / 4  # a window passes once rolling fills about its middle half
        return [FoamRolling(runs[0][0] + q, runs[-1][1] - q, rolling_s, side)]
