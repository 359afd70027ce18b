"""Sustained-posture episodes with hysteresis: lateral lean (both sides) and forward flexion (slouch).

Theory of operation. One `HysteresisDetector` watches a scalar series x(t) in degrees, positive in the
direction of interest (lean to the right: x = lean; to the left: x = -lean; slouch: x = flexion):

    idle      --(x >= enter_deg)-->                 candidate since t_c
    candidate --(exit_deg <= x < enter_deg)-->      dip since t_d
    candidate --(x <  exit_deg or not valid)-->     idle
    dip       --(x >= enter_deg)-->                 candidate (t_c kept: the dip counts toward the hold)
    dip       --(t - t_d >= dip_s, x < exit_deg or not valid)--> idle: the candidate is dropped
    candidate --(t - t_c >= hold_s)-->              active: the episode starts at t_c (confirmed then)
    active    --(x <  exit_deg or not valid)-->     clearing since t_x
    clearing  --(x >= exit_deg and valid)-->        active
    clearing  --(t - t_x >= exit_s)-->              idle: the episode ends at t_x

"Valid" is False where the posture must not be judged (walking) and where the angle is unknown (NaN); a
timestamp gap longer than `max_gap_s` resets a candidate and ends an active episode at the last sample
before the gap. The defaults follow DOMAIN.md: enter 10 deg held 60 s, cleared below 7 deg for 5 s; slouch
20 deg held 60 s (cleared below 15 deg). A reach, a bend or standing up is shorter than `hold_s`, so it can
never start an episode.

The dip. The hysteresis band [exit_deg, enter_deg) is where an ongoing episode is not yet over; the same
band, briefly, does not undo a candidate either: a wearer leaning 11 deg whose reading wobbles to 9.8 for a
breath (sway, breathing, a reading 1 deg off) has not sat up, and a trainer that restarts a minute's count
for that never warns the lean it was built for. A candidate therefore survives a dip into the band shorter
than `dip_s` (3 s: about one breath, three times the angles' 1 s low-pass), and confirmation waits for x
back at enter_deg. Anything else still restarts it at once: x below exit_deg (sitting up, the gap between
two reaches, which return to upright), an invalid sample (walking, unknown angle) or a longer dip (a lean
held just under enter_deg, whose wobble only touches it). `dip_s = 0` gives the strict rule.

The batch is split into runs of equal class (2: x >= enter, 1: exit <= x < enter, 0: x < exit or invalid)
and the state machine steps once per run, not per sample; per-run sums (peak, mean) are numpy reductions.
Feeding batches of any size gives the same episodes as one call.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from monitor.detect.errors import DetectError


@dataclass(frozen=True, slots=True)
class HysteresisParams:
    """Settings of one hysteresis detector (degrees and seconds)."""

    enter_deg: float = 10.0  #: an episode needs x >= enter_deg ...
    hold_s: float = 60.0  #: ... held for this long, s
    exit_deg: float = 7.0  #: it clears once x < exit_deg ...
    exit_s: float = 5.0  #: ... for this long, s
    dip_s: float = 3.0  #: a candidate survives a dip into [exit_deg, enter_deg) shorter than this, s (0: none)
    max_gap_s: float = 2.0  #: a timestamp gap longer than this resets the detector, s

    def __post_init__(self) -> None:
        if not self.exit_deg <= self.enter_deg:
            raise DetectError(f"exit_deg ({self.exit_deg}) must be <= enter_deg ({self.enter_deg})")
        for name in ("hold_s", "exit_s", "dip_s", "max_gap_s"):
            if not getattr(self, name) >= 0:
                raise DetectError(f"{name} must be >= 0, got {getattr(self, name)}")


@dataclass(frozen=True, slots=True)
class LeanParams(HysteresisParams):
    """Lateral lean (DOMAIN.md: 10 deg held 60 s, cleared below 7 deg for 5 s)."""


@dataclass(frozen=True, slots=True)
class FlexionParams(HysteresisParams):
    """Forward flexion, slouch (DOMAIN.md: 20 deg held 60 s); cleared below 15 deg for 5 s."""

    enter_deg: float = 20.0
    exit_deg: float = 15.0


@dataclass(frozen=True, slots=True)
class Episode:
    """A finished (or, from `HysteresisDetector.current`, ongoing) episode of x."""

    start_s: float  #: first sample of the run that reached enter_deg, s
    end_s: float  #: first sample of the clearing run (or the last sample before a gap), s
    peak_deg: float  #: largest x in the episode, deg
    mean_deg: float  #: mean x over the episode's samples, deg


@dataclass(frozen=True, slots=True)
class Confirmed:
    """The moment an episode is confirmed (hold_s after its start): what an alert hangs on."""

    t_s: float  #: confirmation time, s
    start_s: float  #: episode start, s


_IDLE, _CANDIDATE, _ACTIVE, _CLEARING, _DIP = 0, 1, 2, 3, 4


class HysteresisDetector:
    """Streaming detector; settings, state and results kept apart (`params`, private state, return values)."""

    def __init__(self, params: HysteresisParams = HysteresisParams()) -> None:
        self.params = params
        self._state = _IDLE
        self._t_start = math.nan  # candidate/episode start
        self._t_clear = math.nan  # clearing start
        self._t_dip = math.nan  # start of a candidate's dip below enter_deg
        self._t_last = math.nan  # last sample seen
        self._sum = 0.0  # sum of x over the episode so far (clearing samples excluded)
        self._n = 0
        self._peak = -math.inf
        self._csum = 0.0  # sums over the pending clearing run
        self._cn = 0
        self._cpeak = -math.inf

    @property
    def active(self) -> bool:
        """True while an episode is confirmed and not yet cleared."""
        return self._state in (_ACTIVE, _CLEARING)

    def current(self) -> Episode | None:
        """The ongoing confirmed episode so far (end = last sample), or None."""
        if not self.active or self._n == 0:
            return None
        return Episode(self._t_start, self._t_last, self._peak, self._sum / self._n)

    def update(
        self, t_s: np.ndarray, x: np.ndarray, valid: np.ndarray | None = None
    ) -> tuple[list[Episode], list[Confirmed]]:
        """Feed t_s (N,) s, x (N,) deg, valid (N,) bool -> (finished episodes, confirmations) of the batch."""
        t = np.asarray(t_s, dtype=np.float64).reshape(-1)
        xv = np.asarray(x, dtype=np.float64).reshape(-1)
        if xv.shape != t.shape or (valid is not None and np.shape(valid) != t.shape):
            raise DetectError(f"t_s {t.shape}, x {xv.shape} and valid must have the same length")
        episodes: list[Episode] = []
        confirmed: list[Confirmed] = []
        if len(t) == 0:
            return episodes, confirmed
        p = self.params
        ok = np.isfinite(xv) if valid is None else (np.asarray(valid, dtype=bool) & np.isfinite(xv))
        cls = np.where(~ok, 0, np.where(xv >= p.enter_deg, 2, np.where(xv >= p.exit_deg, 1, 0)))
        prev_t = self._t_last if math.isfinite(self._t_last) else t[0]
        gap = np.diff(t, prepend=prev_t) > p.max_gap_s
        xs = np.where(ok, xv, 0.0)
        cuts = np.flatnonzero((np.diff(cls) != 0) | gap[1:]) + 1
        bounds = np.concatenate(([0], cuts, [len(t)])).tolist()
        for s, e in zip(bounds[:-1], bounds[1:], strict=True):
            if gap[s]:
                self._on_gap(float(t[s - 1]) if s > 0 else self._t_last, episodes)
            self._run(int(cls[s]), t, xs, s, e, episodes, confirmed)
        self._t_last = float(t[-1])
        return episodes, confirmed

    def finish(self) -> list[Episode]:
        """Close an open episode at the last sample (end of data)."""
        out: list[Episode] = []
        if self.active:
            end = self._t_clear if self._state == _CLEARING else self._t_last
            out.append(Episode(self._t_start, end, self._peak, self._sum / max(self._n, 1)))
        self._reset()
        return out

    # ---- internals -------------------------------------------------------------------------------

    def _reset(self) -> None:
        self._state = _IDLE
        self._sum, self._n, self._peak = 0.0, 0, -math.inf
        self._csum, self._cn, self._cpeak = 0.0, 0, -math.inf

    def _on_gap(self, t_before: float, episodes: list[Episode]) -> None:
        if self.active:
            end = self._t_clear if self._state == _CLEARING else t_before
            episodes.append(Episode(self._t_start, end, self._peak, self._sum / max(self._n, 1)))
        self._reset()

    def _take(self, xs: np.ndarray, s: int, e: int) -> None:
        seg = xs[s:e]
        self._sum += float(seg.sum())
        self._n += e - s
        self._peak = max(self._peak, float(seg.max()))

    def _run(
        self,
        c: int,
        t: np.ndarray,
        xs: np.ndarray,
        s: int,
        e: int,
        episodes: list[Episode],
        confirmed: list[Confirmed],
    ) -> None:
        p = self.params
        while s < e:
            st = self._state
            if st == _IDLE:
                if c != 2:
                    return
                self._state, self._t_start = _CANDIDATE, float(t[s])
                self._sum, self._n, self._peak = 0.0, 0, -math.inf
            elif st == _CANDIDATE:
                if c == 1 and p.dip_s > 0:
                    self._state, self._t_dip = _DIP, float(t[s])
                    continue
                if c != 2:
                    self._reset()
                    return
                due = self._t_start + p.hold_s
                k = s + int(np.searchsorted(t[s:e], due, side="left"))
                if k >= e:
                    self._take(xs, s, e)
                    return
                self._take(xs, s, k + 1)
                self._state = _ACTIVE
                confirmed.append(Confirmed(float(t[k]), self._t_start))
                s = k + 1
            elif st == _DIP:
                if c == 2:
                    self._state = _CANDIDATE
                    continue
                if c == 0:
                    self._reset()
                    return
                k = s + int(np.searchsorted(t[s:e], self._t_dip + p.dip_s, side="left"))
                if k >= e:
                    self._take(xs, s, e)
                    return
                self._reset()  # too long a dip: the rest of this run is below enter_deg, idle ignores it
                return
            elif st == _ACTIVE:
                if c != 0:
                    self._take(xs, s, e)
                    return
                self._state, self._t_clear = _CLEARING, float(t[s])
                self._csum, self._cn, self._cpeak = 0.0, 0, -math.inf
            else:  # clearing
                if c != 0:
                    self._sum += self._csum
                    self._n += self._cn
                    self._peak = max(self._peak, self._cpeak)
                    self._state = _ACTIVE
                    continue
                due = self._t_clear + p.exit_s
                k = s + int(np.searchsorted(t[s:e], due, side="left"))
                seg = xs[s : min(k, e)]
                if len(seg):
                    self._csum += float(seg.sum())
                    self._cn += len(seg)
                    self._cpeak = max(self._cpeak, float(seg.max()))
                if k >= e:
                    return
                episodes.append(
                    Episode(self._t_start, self._t_clear, self._peak, self._sum / max(self._n, 1))
                )
                self._reset()
                s = k


__all__ = ["Confirmed", "Episode", "FlexionParams", "HysteresisDetector", "HysteresisParams", "LeanParams"]
