"""Automatic mounting when there is no profile and no calibration windows ("be useful anyway").

Theory of operation. Without a calibration we know neither the neutral posture nor which way is forward.
Earth-up in the sensor frame (u: the accelerometer's direction, which a gyro bias the fusion has not yet
learned does not tilt) is kept at `history_hz`, and the calibrated acceleration of the last seconds at the
full rate; the pipeline then hands over the activity classifier's decided hops.
The walking posture u_w is the mean u over the walking hops used in 2, of the posture group chosen there;
it is known after `upright_walk_s` of them (people walk upright).

1. Neutral: sedentary hops whose mean u lies within `upright_deg` of u_w are upright still time (sitting
   or standing; never lying, which is its own activity and far from u_w, nor a bend, which is active or
   far from u_w). Real people rarely rest 20 s unbroken (DOMAIN.md: median longest rest 9.9 s), so time
   adds up across hops, per still posture: hops within `cluster_deg` of each other are one posture
   (bounded: `max_postures`). The neutral is the posture nearest to u_w that has `still_s` of time,
   averaged with the still time within `refine_deg` of it (a trimmed mean: leans and slouches do not pull
   it); while no still posture is within `walk_dev_deg` of u_w, u_w itself. So it is the wearer's upright
   posture, not a habitual slouch or recline at the desk (real people sit up to 22 deg forward or back of
   their standing posture: DSADS), and it is refined as the day goes on. Before any walk (no u_w) the
   provisional upright (below) stands in for u_w.
2. Forward, from walking: the trunk's acceleration at the step frequency is mostly forward-backward (the
   side-to-side sway repeats at the stride, half of it). Per walking hop (its classifier window, Hann
   tapered) the horizontal acceleration h (sensor frame, u removed) and the vertical one v are
   demodulated at the hop's cadence, H and V (complex); summed over hops, C = Re(sum H H^*) is a 3x3
   spectral matrix whose principal axis a is the forward-backward axis (DSADS p1-p4 walking and stairs:
   within 1-7 deg of the documented anterior axis; its power 4-35x the side axis). The sign: the forward
   acceleration leads the vertical one by 75-140 deg at the step frequency (DSADS walking and stairs up,
   all 4 subjects; the simulator 60-80), so forward is the sign of a for which Im(a . sum H V^*) > 0.
   Only walking hops count that walk: a cadence within `min_cadence_hz`..`max_cadence_hz`, a vertical
   bounce of at least `min_bounce_m_s2` at it (each step lifts the body; a rowing machine's slide and a
   foam roller's roll move it along), outside a detected rowing or foam-rolling session (detected late,
   or not at all before there is a mounting). They are summed per posture (monitor.detect.walkgroups,
   hops within `walk_group_deg`), and the group used is the one with most still time near it (within
   `upright_deg`; before there is still time, the most walking): the wearer's day is spent near the
   walking posture, not on a roller. Later evidence replaces earlier: when another group takes over, all
   that was learned is dropped and the still time seen so far is judged against the new upright. Fixed
   once `walk_fwd_s` of the group give an axis `min_ap_ratio` times stronger than the side axis and a
   phase at least `min_phase_deg` from 0 or 180; refined until `walk_max_s` of its walking.
3. Forward, without a walk: people bend forward far more (and further) than backward, while side bends
   and side reaches go both ways and roughly cancel. With d = u - (u . u_n) u_n the horizontal part of
   earth-up (sensor frame), summed over the samples of bends tilted more than `min_tilt_deg` from neutral
   (and less than `max_tilt_deg`), and bending forward tipping earth-up toward body -x (monitor.pipeline.angles),
   forward is x_s = -normalize(sum d), refined as bends come. Beyond `deep_tilt_deg` only a forward bend
   gets (side bending and extension stop at about 25-35 deg): once `min_bend_s` of such samples are there
   they alone give x_s, for good (a stretch's side bend that came first does not set it). A bend is a
   short excursion of sedentary or active hops from upright back to upright (at most `max_bend_hold_s`,
   a held toe-touch included: minutes on an exercise bike or a rowing machine, reclining, lying down and
   getting up are no bends), `min_bend_s` of them. The walking estimate, once there, replaces it.
4. R_bs has the rows x_s, z_s x x_s, z_s (calibration.mounting's convention); it is rebuilt as u_n and
   x_s are refined.

Before the first walk the classifier can not tell lying from sitting, so the first unbroken still run of
`provisional_s` in one posture is taken as upright provisionally (people put the sensor on sitting or
standing) and the hops are kept (bounded). A still posture more than 45 deg from it with 3 times its still
time replaces it (the day began lying on a foam roller, then came the desk), and so does the first walk
when its posture is more than `upright_deg` away (the wearer was lying): everything learned is dropped and
the kept hops are judged again.

A foam roller's slow bouts are still to the classifier, and so are its pauses, so the roller's rock is
recognised without a mounting (monitor.detect.foam.rocking, given by `feed_rocks`: the trunk rocks about a
horizontal axis at 0.2-1 Hz, steadily, with no jolts of steps), for `roll_min_s` at least (a bout lasts
20-60 s; a sitting wearer's sway or a stretch passes a 10 s window or two). Still hops from
`roll_before_s` before such a rock to `roll_after_s` after it are pauses on the roller: they count neither
as a posture's still time nor toward the provisional run, which both wait until the rocking up to
`roll_before_s` after a hop is known. So the provisional upright is the desk that follows, not the roller.
Rocking is looked for only until there is a provisional upright (the test costs a few percent of the
pipeline; a roller later before a walk only adds still time far from the desk).
The pipeline, too, judges no flexion past the lying angle from a provisional upright (monitor.pipeline.steps):
a guess gone wrong gives no slouch.

This is a heuristic: a wearer who walks with the sensor far off the midline or limps strongly may get a
rough forward direction, and one who never stands or sits upright gets a slouched neutral. The
calibration (`posture calibrate`, or --neutral/--forward-bend windows) is always better.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from monitor.detect.activity import Hop
from monitor.detect.postures import StillPostures
from monitor.detect.walkgroups import WalkGroups, demodulate, forward_axis
from monitor.events import Activity


@dataclass(frozen=True, slots=True)
class BaselineParams:
    still_s: float = 10.0  #: still time in one upright posture (not necessarily unbroken) for the neutral, s
    cluster_deg: float = 4.0  #: still hops this close are one posture, deg
    refine_deg: float = 6.0  #: the neutral averages the still postures this close to the chosen one, deg
    upright_deg: float = 30.0  #: a still hop this close to the walking posture is upright, deg
    walk_dev_deg: float = 8.0  #: a neutral from still time must be this close to the walking posture, deg
    provisional_s: float = 30.0  #: before any walk, an unbroken still run this long is taken as upright, s
    #: before any walk, still hops from this long before a roller's rock (monitor.detect.foam.rocking) ...
    roll_before_s: float = 20.0
    #: ... to this long after one are pauses on the roller, not upright still time, s
    roll_after_s: float = 45.0
    #: ... a rock that lasts this long (overlapping windows joined): a bout on a roller lasts 20-60 s, a
    #: sitting wearer's sway or a stretch that happens to rock passes one or two 10 s windows, s
    roll_min_s: float = 20.0
    max_postures: int = 48  #: still postures kept (the one with least time goes first)
    walk_fwd_s: float = 15.0  #: walking that fixes the forward direction, s
    walk_max_s: float = 600.0  #: walking (in one posture group) after which it is no longer refined, s
    walk_group_deg: float = 25.0  #: walking hops this close in posture are one group, deg
    min_ap_ratio: float = 2.0  #: step-rate power along forward-backward over the side axis
    #: walking hops faster than this are not used (real walks: 1.46-1.95 Hz, DOMAIN.md; faster "walking"
    #: is a machine or running, e.g. a rowing machine's stroke harmonics), Hz
    max_cadence_hz: float = 2.2
    #: ... or slower than this: the classifier's slowest step lag (1.19 Hz at 25 and 50 Hz) is the edge of its
    #: search, not a step rhythm found; a slower rocking lands there (a foam roller at 0.2-1 Hz), Hz
    min_cadence_hz: float = 1.25
    #: walking lifts the body at each step: the vertical acceleration at the cadence has at least this
    #: amplitude (DSADS walking: 5th percentile 1.2 m/s^2; simulated walks 1.45 and more, a rowing machine's
    #: slide at most 0.9), m/s^2
    min_bounce_m_s2: float = 1.0
    upright_walk_s: float = 10.0  #: such walking that shows the upright (walking) posture, s
    min_phase_deg: float = 20.0  #: forward vs vertical phase at least this far from 0 and 180, deg
    min_tilt_deg: float = 25.0  #: (no walk) samples tilted more than this show the forward direction, deg
    #: ... and beyond this only a forward bend gets (the trunk's side bending and extension stop at about
    #: 25-35 deg): once min_bend_s of these are there they alone give it, for good, deg
    deep_tilt_deg: float = 45.0
    max_tilt_deg: float = 100.0  #: ... and less than this, deg
    min_bend_s: float = 3.0  #: that many seconds of them fix the forward direction, s
    max_bend_hold_s: float = 40.0  #: a longer run of tilted hops (cycling, rowing, reclining) is no bend, s
    history_hz: float = 10.0  #: earth-up kept at this rate, Hz
    max_history_s: float = 4 * 3600.0  #: at most this much of bend candidates, s


_BENDING = (Activity.SEDENTARY, Activity.ACTIVE, Activity.TRANSITION)
_PAD_S = 1.5  #: a walking hop's samples are its classifier window: 1.5 s either side of the 1 s hop


class AutoBaseline:
    def __init__(self, params: BaselineParams = BaselineParams()) -> None:
        self.params = params
        self._next_keep = -math.inf
        self._recent_t = np.zeros(0)  # earth-up of the hops not decided yet
        self._recent_u = np.zeros((0, 3))
        self._motion_t = np.zeros(0)  # full-rate acceleration of the last seconds
        self._motion_a = np.zeros((0, 3))
        self._pending: list[tuple[Hop, np.ndarray]] = []  # hops seen before a walk confirmed upright
        self._pending_n = 0
        self._n_done = 0  # of them, judged against the provisional upright
        self._n_seen = 0  # of them, counted as still time by posture (_pv) once the rocking near them is known
        self._rocks: list[tuple[float, float]] = []  # a roller's rock before the first walk, (start, end) s
        self._rocks_judged_s = math.inf  # rocking known up to, s (nothing judges it: hops are taken at once)
        self._confirmed = False  # a walk has shown upright
        self.provisional_up_s: np.ndarray | None = None  #: upright assumed before the first walk
        self._pv = StillPostures(params.cluster_deg, params.max_postures)  # still postures before the first walk
        self._groups = WalkGroups(params.walk_group_deg, 8, params.walk_max_s)  # walking sums per posture
        self._walk_k: int | None = None  # the group in use
        self._walk_s = 0.0  # its walking time, s
        self._walk_up = np.zeros(3)  # its sum of earth-up x duration
        self._switched = False  # the group in use changed
        self._reseed = False  # take the still postures from _still_all once the upright is known
        self._still_all = StillPostures(params.cluster_deg, params.max_postures)  # all day's still time
        self._walk_at_s = math.inf  # when walking first gave forward, s
        self._t_floor = -math.inf  # start of the hops being fed now, s
        self._x_walk: np.ndarray | None = None  #: forward from walking, sensor frame (not yet horizontal)
        self._reset()

    def _reset(self) -> None:
        self.neutral_up_s: np.ndarray | None = None  #: (3,) once known
        self.neutral_span_s: tuple[float, float] | None = None  #: first and last upright still hop used, s
        self.neutral_at_s: float = math.nan  #: when the neutral was first known, s
        self.R_bs: np.ndarray | None = None  #: (3,3) once known
        self.forward_at_s: float = math.nan  #: when the angles were first known (neutral and forward), s
        self._post = StillPostures(self.params.cluster_deg, self.params.max_postures)  # upright still time
        self._x_s: np.ndarray | None = None  # forward from bends
        self._x_deep = False  # ... from bends beyond deep_tilt_deg (else refined as bends come)
        self._cand: list[np.ndarray] = []  # earth-up of bends, for the forward direction
        self._cand_n = 0
        self._excursion: list[np.ndarray] = []  # the current run of tilted hops
        self._excursion_s = 0.0
        self._after_lying = False  # the current excursion started from lying (getting up)

    @property
    def confirmed(self) -> bool:
        """A walk has shown the upright posture (before it, upright is a provisional guess)."""
        return self._confirmed

    @property
    def forward_from_walking(self) -> bool:
        """The forward direction comes from walking (not from bends)."""
        return self._x_walk is not None

    @property
    def known(self) -> bool:
        """True once angles can be given (neutral and forward found)."""
        return self.R_bs is not None

    def feed_up(self, t_s: np.ndarray, up_s: np.ndarray, acc: np.ndarray | None = None) -> None:
        """t_s (N,), up_s (N,3) unit earth-up in the sensor frame: kept at history_hz until their hop;
        acc (N,3) m/s^2 the calibrated acceleration, kept at the full rate for the walking analysis."""
        p = self.params
        if len(t_s) == 0:
            return
        slots = np.floor(t_s * p.history_hz)
        first = np.concatenate(([True], np.diff(slots) > 0)) & (slots > self._next_keep)
        if first.any():
            u = up_s[first]
            if acc is not None:  # the accelerometer's gravity: the fusion's earth-up is off by tens of
                # degrees while its gyro bias is not yet learned (an MPU-6050 has up to 20 deg/s of it)
                g = acc[first]
                u = g / np.maximum(np.linalg.norm(g, axis=1, keepdims=True), 1e-9)
            self._recent_t = np.concatenate((self._recent_t, t_s[first]))
            self._recent_u = np.concatenate((self._recent_u, u))
            self._next_keep = float(slots[first][-1])
        if acc is not None:
            self._motion_t = np.concatenate((self._motion_t, t_s))
            self._motion_a = np.concatenate((self._motion_a, acc))

    @property
    def wants_rocks(self) -> bool:
        """The roller's rock matters (`feed_rocks`): no walk and no provisional upright yet (once there is
        one, the still time is judged against it and the rocking test is not run: it costs)."""
        return not self._confirmed and self.provisional_up_s is None

    def feed_rocks(self, spans: list[tuple[float, float]], judged_s: float) -> None:
        """Windows that rock like a foam roller, (start, end) s, from monitor.detect.foam without a mounting;
        rocking has been judged up to judged_s. Before the first walk, still hops near them are pauses on the
        roller: neither still time of a posture nor the provisional upright."""
        if self._confirmed:
            return
        for a, b in spans:
            if self._rocks and a <= self._rocks[-1][1]:
                self._rocks[-1] = (self._rocks[-1][0], max(b, self._rocks[-1][1]))
            else:
                self._rocks.append((a, b))
        self._rocks = self._rocks[-64:]  # bounded; only the ones near the hops not yet counted matter
        self._rocks_judged_s = judged_s

    def _by_roller(self, h: Hop) -> bool:
        p = self.params
        return any(
            b - a >= p.roll_min_s and a - p.roll_before_s <= h.end_s and h.start_s <= b + p.roll_after_s
            for a, b in self._rocks
        )

    def feed_hops(self, hops: list[Hop], exercising: bool = False) -> None:
        """The classifier's decided hops; `exercising`: a rowing or foam-rolling session is going on (its
        hops show neither the walking posture nor forward)."""
        p = self.params
        if not hops:
            return
        self._walking(hops, exercising)
        self._t_floor = hops[0].start_s  # kept hops judged again now can not date anything earlier
        if exercising:  # on a rowing machine or a foam roller: not a still posture, nor the upright
            hops = [Hop(h.start_s, h.end_s, Activity.ACTIVE) for h in hops]
        cos_up = math.cos(math.radians(p.upright_deg))
        cos_bent = math.cos(math.radians(max(0.0, p.min_tilt_deg - 10.0)))
        todo: list[tuple[Hop, np.ndarray]] = []
        for h in hops:
            i0, i1 = np.searchsorted(self._recent_t, (h.start_s, h.end_s), side="left")
            if i1 > i0:
                todo.append((h, self._recent_u[i0:i1]))
        still = [(h, u) for h, u in todo if h.activity in (Activity.SEDENTARY, Activity.LYING)]
        # upright: the walking posture of the group in use (not the classifier's, learned from any "steps")
        n_walk = float(np.linalg.norm(self._walk_up))
        upright_s = self._walk_up / n_walk if self._walk_s >= p.upright_walk_s and n_walk > 0 else None
        ref = upright_s
        if self._switched and self._confirmed:  # later evidence moved the walking posture: start again
            self._reset()
            self._confirmed, self._n_done, self._pending, self._pending_n = False, 0, [], 0
            self._n_seen = 0
            self.provisional_up_s = None
            self._reseed = True
        self._switched = False
        if not self._confirmed:
            if self._pending_n < p.max_history_s * p.history_hz:  # kept until a walk shows upright
                self._pending += todo
                self._pending_n += sum(len(u) for _, u in todo)
            judged_s = self._rocks_judged_s if self.wants_rocks else math.inf
            for h, u in self._pending[self._n_seen :]:  # once the rocking near them is known
                if h.end_s + p.roll_before_s > judged_s:
                    break
                self._n_seen += 1
                if h.activity == Activity.SEDENTARY and not self._by_roller(h):
                    self._pv.add(u, h.end_s - h.start_s)
            if upright_s is not None:
                self._confirmed = True
                prov = self.provisional_up_s
                if prov is None or float(prov @ upright_s) < cos_up:  # assumed wrongly (lying): start again
                    self._reset()
                    self._n_done = 0
                todo, self._pending, self._pending_n = self._pending[self._n_done :], [], 0
                self._n_seen, self._rocks = 0, []
            else:
                if self.provisional_up_s is None:
                    self.provisional_up_s = self._provisional()
                elif (other := self._pv.overtaken(self.provisional_up_s)) is not None:
                    self._reset()  # lying on a roller first, then minutes at the desk: the desk is upright
                    self._n_done = 0
                    self.provisional_up_s = other
                ref = self.provisional_up_s
                if ref is not None:
                    todo, self._n_done = self._pending[self._n_done :], len(self._pending)
                else:
                    todo = []
        if self._reseed and ref is not None:  # the still time seen so far, judged against the new upright
            self._reseed = False
            near = self._still_all.units @ ref >= cos_up
            self._post.replace(self._still_all.sums[near].copy(), self._still_all.times[near].copy())
        for h, u in todo:
            assert ref is not None
            n_cand = self._cand_n
            self._track_bend(h, u[u @ ref < cos_bent])
            if h.activity == Activity.SEDENTARY:
                m = u.mean(axis=0)
                m /= np.linalg.norm(m)
                if float(m @ ref) >= cos_up:
                    self._post.add(m[None], h.end_s - h.start_s)
                    span0 = h.start_s if self.neutral_span_s is None else self.neutral_span_s[0]
                    self.neutral_span_s = (span0, h.end_s)
            if self.R_bs is None:  # dated by its hop: a long batch (a replayed file) holds many
                self._choose_neutral(ref, h.end_s)
                if self.neutral_up_s is not None and (self._cand_n > n_cand or self._walk_at_s <= h.end_s):
                    self._forward(h.end_s)
        for h, u in still:
            self._still_all.add(u, h.end_s - h.start_s)
        keep = self._recent_t >= hops[-1].end_s
        self._recent_t, self._recent_u = self._recent_t[keep], self._recent_u[keep]
        if todo and ref is not None:
            self._choose_neutral(ref, todo[-1][0].end_s)  # before a walk: the provisional upright
        if self.neutral_up_s is not None:
            self._forward(hops[-1].end_s)

    def _choose_neutral(self, walk_up: np.ndarray, t_s: float) -> None:
        """The still posture nearest the walking posture (before a walk: the provisional upright) with
        still_s of time, averaged with the still postures within refine_deg of it; the walking posture
        itself while none is within walk_dev_deg (a reclined or hunched habitual sitting posture is not
        neutral)."""
        p = self.params
        ok = self._post.times >= p.still_s
        n = walk_up
        if ok.any():
            c = self._post.units
            k = int(np.argmax(np.where(ok, c @ walk_up, -np.inf)))
            if float(c[k] @ walk_up) >= math.cos(math.radians(p.walk_dev_deg)):
                n = self._post.sums[c @ c[k] >= math.cos(math.radians(p.refine_deg))].sum(axis=0)
        if self.neutral_up_s is None:
            self.neutral_at_s = max(t_s, self._t_floor)
        self.neutral_up_s = n / np.linalg.norm(n)

    def _walking(self, hops: list[Hop], exercising: bool) -> None:
        """Walking sums per posture and the forward direction from the chosen group (module docstring, 2)."""
        p = self.params
        if len(self._motion_t) == 0:
            return
        for h in hops:
            if exercising or h.activity != Activity.WALKING or not p.min_cadence_hz <= h.cadence_hz <= p.max_cadence_hz:
                continue
            i0, i1 = np.searchsorted(self._motion_t, (h.start_s - _PAD_S, h.end_s + _PAD_S))
            if i1 - i0 < 16:
                continue
            g, H, V = demodulate(self._motion_t[i0:i1], self._motion_a[i0:i1], h.cadence_hz)
            if 2 * abs(V) < p.min_bounce_m_s2 * max(float(np.hanning(i1 - i0).sum()), 1e-9):
                continue  # no step lifts the body: a rowing machine's slide, a roller's roll
            self._groups.add(g, H, V, h.end_s - h.start_s)
            self._choose_walk(h.end_s)  # dated by its hop
        last = hops[-1].end_s
        keep = self._motion_t >= last - 2 * _PAD_S - 1.0
        self._motion_t, self._motion_a = self._motion_t[keep], self._motion_a[keep]
        self._choose_walk(last, refine=True)

    def _choose_walk(self, t_s: float, refine: bool = False) -> None:
        """The walking group with most still time near it (the most walking before there is still time); a
        change of group drops the forward found from the old one (feed_hops starts the baseline again)."""
        p = self.params
        st = self._still_all
        k = self._groups.best(st.units, st.times, p.upright_deg, p.upright_walk_s)
        if k != self._walk_k:
            self._walk_k, self._x_walk, self._walk_at_s = k, None, math.inf
            self._switched = True
        if k is None:
            self._walk_s, self._walk_up = 0.0, np.zeros(3)
            return
        self._walk_s, self._walk_up = float(self._groups.time_s[k]), self._groups.up[k].copy()
        if self._walk_s >= p.walk_fwd_s and (self._x_walk is None or refine):
            x = forward_axis(self._groups.C[k], self._groups.X[k], p.min_ap_ratio, p.min_phase_deg)
            if x is not None:
                self._x_walk = x
                self._walk_at_s = min(self._walk_at_s, t_s)

    def _provisional(self) -> np.ndarray | None:
        """Before any walk: the first unbroken run of still hops within cluster_deg of each other that
        lasts provisional_s (longer than any held bend of a stretch routine) is taken as upright (people put
        the sensor on sitting or standing), until a walk confirms or overrules it."""
        p = self.params
        cos_c = math.cos(math.radians(p.cluster_deg))
        run_sum, run_s = np.zeros(3), 0.0
        for h, u in self._pending[: self._n_seen]:
            m = u.mean(axis=0)
            m /= np.linalg.norm(m)
            if h.activity != Activity.SEDENTARY or self._by_roller(h):
                run_sum, run_s = np.zeros(3), 0.0
                continue
            if run_s > 0 and float(m @ run_sum) < cos_c * float(np.linalg.norm(run_sum)):
                run_sum, run_s = np.zeros(3), 0.0  # another posture: a new run
            run_sum += m * (h.end_s - h.start_s)
            run_s += h.end_s - h.start_s
            if run_s >= p.provisional_s:
                return run_sum / np.linalg.norm(run_sum)
        return None

    def _track_bend(self, h: Hop, bent: np.ndarray) -> None:
        """A bend is a short run of tilted hops from upright back to upright (not lying down, not
        getting up from lying); its samples become forward-direction candidates."""
        p = self.params
        if self._x_walk is not None:
            return  # walking has shown forward
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
        if self._x_walk is None and not self._x_deep and self._cand:
            u = np.concatenate(self._cand)
            cos = np.clip(u @ u_n, -1.0, 1.0)
            tilt = np.degrees(np.arccos(cos))
            deep = (tilt > p.deep_tilt_deg) & (tilt < p.max_tilt_deg)
            self._x_deep = int(deep.sum()) / p.history_hz >= p.min_bend_s
            sel = deep if self._x_deep else (tilt > p.min_tilt_deg) & (tilt < p.max_tilt_deg)
            d_sum = (u[sel] - cos[sel, None] * u_n).sum(axis=0)
            if int(sel.sum()) / p.history_hz >= p.min_bend_s and np.linalg.norm(d_sum) > 1e-9:
                self._x_s = -d_sum / np.linalg.norm(d_sum)
            self._cand = [] if self._x_deep else [u]  # one array: the check above stays a single pass
            self._cand_n = 0 if self._x_deep else len(u)
        x = self._x_walk if self._x_walk is not None else self._x_s
        if x is not None:
            x_s = x - (x @ u_n) * u_n
            if np.linalg.norm(x_s) < 1e-6:
                return
            x_s /= np.linalg.norm(x_s)
            if self.R_bs is None:
                self.forward_at_s = max(t_s, self._t_floor)
            self.R_bs = np.vstack([x_s, np.cross(u_n, x_s), u_n])


__all__ = ["AutoBaseline", "BaselineParams"]
