"""Automatic mounting when there is no profile and no calibration windows ("be useful anyway").

Theory of operation. Without a calibration we know neither the neutral posture nor which way is forward.
Earth-up in the sensor frame (u, from the fusion) is kept at `history_hz`; the pipeline then hands over
the activity classifier's decided hops together with its upright direction u_w (learned from walking, when
people are upright: monitor.detect.activity).

1. Neutral: sedentary hops whose mean u lies within `upright_deg` of u_w are upright still time (sitting
   or standing; never lying, which is its own activity and far from u_w, nor a bend, which is active or
   far from u_w). Real people rarely rest 20 s unbroken (DOMAIN.md: median longest rest 9.9 s), so the
   time adds up across hops: once `still_s` of it is seen, u_n = normalize(sum of u x duration), the
   body's z axis. It keeps being refined as the day goes on by the still hops within `refine_deg` of it
   (a trimmed mean: leans and slouches do not pull it).
2. Forward: people bend forward far more (and further) than backward, while side bends and side reaches go
   both ways and roughly cancel. With d = u - (u . u_n) u_n the horizontal part of earth-up (sensor
   frame), summed over the samples of bends tilted more than `min_tilt_deg` from neutral (and less than
   `max_tilt_deg`), and bending forward tipping earth-up toward body -x (monitor.pipeline.angles), forward is
   x_s = -normalize(sum d). A bend is a short excursion of sedentary or active hops from upright back to
   upright (at most `max_bend_hold_s`: minutes on an exercise bike or a rowing machine, reclining, lying
   down and getting up are no bends). Forward is fixed once `min_bend_s` of such samples were seen (a few
   sit-to-stand movements, or one forward bend); until then angles are unknown. Bends before the neutral
   was found count too (their samples are kept, bounded by `max_history_s`).
3. R_bs has the rows x_s, z_s x x_s, z_s (calibration.mounting's convention); it is rebuilt as u_n is
   refined.

Before the first walk the classifier can not tell lying from sitting, so the first `still_s` of sedentary
time is taken as upright provisionally (people put the sensor on sitting or standing) and the hops are
kept (bounded). The first walk confirms it, or, when its posture is more than `upright_deg` away (the
wearer was lying), everything learned is dropped and the kept hops are judged again against the walk.

This is a heuristic: a wearer who mostly bends sideways, or sits down leaning back, gets wrong sides. The
calibration (`posture calibrate`, or --neutral/--forward-bend windows) is always better.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from monitor.detect.activity import Hop
from monitor.events import Activity


@dataclass(frozen=True, slots=True)
class BaselineParams:
    still_s: float = 20.0  #: upright still time (not necessarily unbroken) needed for the neutral, s
    refine_deg: float = 5.0  #: after the first still_s, only still hops this close refine it (leans do not), deg
    upright_deg: float = 30.0  #: a still hop this close to the walking posture is upright, deg
    min_tilt_deg: float = 25.0  #: samples tilted more than this show the forward direction, deg
    max_tilt_deg: float = 100.0  #: ... and less than this, deg
    min_bend_s: float = 3.0  #: that many seconds of them fix the forward direction, s
    max_bend_hold_s: float = 20.0  #: a longer run of tilted hops (cycling, rowing, reclining) is no bend, s
    history_hz: float = 10.0  #: earth-up kept at this rate, Hz
    max_history_s: float = 4 * 3600.0  #: at most this much of bend candidates, s


_BENDING = (Activity.SEDENTARY, Activity.ACTIVE, Activity.TRANSITION)


class AutoBaseline:
    def __init__(self, params: BaselineParams = BaselineParams()) -> None:
        self.params = params
        self._next_keep = -math.inf
        self._recent_t = np.zeros(0)  # earth-up of the hops not decided yet
        self._recent_u = np.zeros((0, 3))
        self._pending: list[tuple[Hop, np.ndarray]] = []  # hops seen before a walk confirmed upright
        self._pending_n = 0
        self._n_done = 0  # of them, judged against the provisional upright
        self._confirmed = False  # a walk has shown upright
        self.provisional_up_s: np.ndarray | None = None  #: upright assumed before the first walk
        self._reset()

    def _reset(self) -> None:
        self.neutral_up_s: np.ndarray | None = None  #: (3,) once known
        self.neutral_span_s: tuple[float, float] | None = None  #: first and last upright still hop used, s
        self.neutral_at_s: float = math.nan  #: when the neutral was first known, s
        self.R_bs: np.ndarray | None = None  #: (3,3) once known
        self.forward_at_s: float = math.nan  #: when forward was fixed, s
        self._neutral_sum = np.zeros(3)
        self._neutral_time = 0.0
        self._x_s: np.ndarray | None = None
        self._cand: list[np.ndarray] = []  # earth-up of bends, for the forward direction
        self._cand_n = 0
        self._excursion: list[np.ndarray] = []  # the current run of tilted hops
        self._excursion_s = 0.0
        self._after_lying = False  # the current excursion started from lying (getting up)

    @property
    def known(self) -> bool:
        """True once angles can be given (neutral and forward found)."""
        return self.R_bs is not None

    def feed_up(self, t_s: np.ndarray, up_s: np.ndarray) -> None:
        """t_s (N,), up_s (N,3) unit earth-up in the sensor frame: kept at history_hz until their hop."""
        p = self.params
        if len(t_s) == 0:
            return
        slots = np.floor(t_s * p.history_hz)
        first = np.concatenate(([True], np.diff(slots) > 0)) & (slots > self._next_keep)
        if first.any():
            self._recent_t = np.concatenate((self._recent_t, t_s[first]))
            self._recent_u = np.concatenate((self._recent_u, up_s[first]))
            self._next_keep = float(slots[first][-1])

    def feed_hops(self, hops: list[Hop], upright_s: np.ndarray | None) -> None:
        """The classifier's decided hops and its upright direction (None while it has none)."""
        p = self.params
        if not hops:
            return
        cos_up = math.cos(math.radians(p.upright_deg))
        cos_bent = math.cos(math.radians(max(0.0, p.min_tilt_deg - 10.0)))
        cos_refine = math.cos(math.radians(p.refine_deg))
        todo: list[tuple[Hop, np.ndarray]] = []
        for h in hops:
            i0, i1 = np.searchsorted(self._recent_t, (h.start_s, h.end_s), side="left")
            if i1 > i0:
                todo.append((h, self._recent_u[i0:i1]))
        ref = upright_s
        if not self._confirmed:
            if self._pending_n < p.max_history_s * p.history_hz:  # kept until a walk shows upright
                self._pending += todo
                self._pending_n += sum(len(u) for _, u in todo)
            if upright_s is not None:
                self._confirmed = True
                prov = self.provisional_up_s
                if prov is None or float(prov @ upright_s) < cos_up:  # assumed wrongly (lying): start again
                    self._reset()
                    self._n_done = 0
                todo, self._pending, self._pending_n = self._pending[self._n_done :], [], 0
            else:
                if self.provisional_up_s is None:
                    self.provisional_up_s = self._provisional()
                ref = self.provisional_up_s
                if ref is None:
                    todo = []
                else:
                    todo, self._n_done = self._pending[self._n_done :], len(self._pending)
        for h, u in todo:
            assert ref is not None
            n_cand, had_neutral = self._cand_n, self.neutral_up_s is not None
            self._track_bend(h, u[u @ ref < cos_bent])
            if had_neutral and self._x_s is None and self._cand_n > n_cand:
                self._forward(h.end_s)  # a new bend: dated by its hop (a long batch holds many)
            if h.activity != Activity.SEDENTARY:
                continue
            m = u.mean(axis=0)
            m /= np.linalg.norm(m)
            near = self.neutral_up_s is None or float(m @ self.neutral_up_s) >= cos_refine
            if float(m @ ref) >= cos_up and near:
                self._neutral_sum += m * (h.end_s - h.start_s)
                self._neutral_time += h.end_s - h.start_s
                span0 = h.start_s if self.neutral_span_s is None else self.neutral_span_s[0]
                self.neutral_span_s = (span0, h.end_s)
                if self._neutral_time >= p.still_s:
                    first = self.neutral_up_s is None
                    self.neutral_up_s = self._neutral_sum / np.linalg.norm(self._neutral_sum)
                    if first:
                        self.neutral_at_s = h.end_s
                        self._forward(h.end_s)  # the bends seen before
        keep = self._recent_t >= hops[-1].end_s
        self._recent_t, self._recent_u = self._recent_t[keep], self._recent_u[keep]
        if self.neutral_up_s is None:
            return
        self._forward(hops[-1].end_s)

    def _provisional(self) -> np.ndarray | None:
        """Before any walk: the mean attitude of the first still_s of sedentary time is taken as upright
        (people put the sensor on sitting or standing), until a walk confirms or overrules it."""
        tot, acc = 0.0, np.zeros(3)
        for h, u in self._pending:
            if h.activity == Activity.SEDENTARY:
                acc += u.mean(axis=0) * (h.end_s - h.start_s)
                tot += h.end_s - h.start_s
        return acc / np.linalg.norm(acc) if tot >= self.params.still_s and np.linalg.norm(acc) > 0 else None

    def _track_bend(self, h: Hop, bent: np.ndarray) -> None:
        """A bend is a short run of tilted hops from upright back to upright (not lying down, not
        getting up from lying); its samples become forward-direction candidates."""
        p = self.params
        if h.activity in (Activity.LYING, Activity.NOT_WORN):
            self._excursion, self._excursion_s, self._after_lying = [], 0.0, True
        elif len(bent) and h.activity in _BENDING:
            self._excursion.append(bent)
            self._excursion_s += h.end_s - h.start_s
        elif len(bent):  # walking tilted: not a bend
            self._excursion, self._excursion_s = [], 0.0
        else:  # back upright
            if (
                0 < self._excursion_s <= p.max_bend_hold_s
                and not self._after_lying
                and self._cand_n < p.max_history_s * p.history_hz
            ):
                self._cand += self._excursion
                self._cand_n += sum(len(x) for x in self._excursion)
            self._excursion, self._excursion_s, self._after_lying = [], 0.0, False

    def _forward(self, t_s: float) -> None:
        p = self.params
        u_n = self.neutral_up_s
        assert u_n is not None
        if self._x_s is None and self._cand:
            u = np.concatenate(self._cand)
            cos = np.clip(u @ u_n, -1.0, 1.0)
            tilt = np.degrees(np.arccos(cos))
            sel = (tilt > p.min_tilt_deg) & (tilt < p.max_tilt_deg)
            d_sum = (u[sel] - cos[sel, None] * u_n).sum(axis=0)
            if int(sel.sum()) / p.history_hz >= p.min_bend_s and np.linalg.norm(d_sum) > 1e-9:
                self._x_s = -d_sum / np.linalg.norm(d_sum)
                self.forward_at_s = t_s
                self._cand, self._cand_n = [], 0
            else:
                self._cand = [u]  # one array: the check above stays a single pass
        if self._x_s is not None:
            x_s = self._x_s - (self._x_s @ u_n) * u_n
            x_s /= np.linalg.norm(x_s)
            self.R_bs = np.vstack([x_s, np.cross(u_n, x_s), u_n])


__all__ = ["AutoBaseline", "BaselineParams"]
