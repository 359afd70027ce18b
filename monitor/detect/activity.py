"""Activity from the trunk's motion: walking (with cadence and steps), active, sedentary, lying, not worn.

Theory of operation. The classifier looks at overlapping windows (`window_s`, default 4 s) every `hop_s`
(1 s) and labels the middle `hop_s` of each window, so its decisions are late by half a window but in the
right place in time. Window lengths are in seconds and turned into samples at the measured rate, so the
rules hold at 25 Hz as at 400 Hz. Per window, with a = |acc| (m/s^2, orientation-free) minus its mean:

    r(k)         = sum_i a_i a_{i+k} / sum_i a_i^2 * w / (w - k)    normalised autocorrelation at lag k
    r_step       = max r(k) over the step lags   fs/cadence_max_hz .. fs/cadence_min_hz
    r_stride     = max r(k) over the stride lags (twice those): with the sensor off the body's midline
                   |acc| repeats every stride, not every step (DOMAIN.md "What real bodies look like");
                   counted only when r at half the stride lag > min_half_stride (a slower rhythm of
                   one beat per "stride" is anti-correlated there)
    cadence_hz   = fs / k_step, or 2 fs / k_stride when only the stride rhythm is there
    walking      <=> max(r_step, r_stride) >= min_periodicity  and
                     min_step_acc_m_s2 <= std(a) < max_step_acc_m_s2     (running, jumping: active)
    spread       = sqrt(sum_axes var(gyr))  (the gyro bias does not matter)
    r_gyr        = max over lags 0.4-2 s of the gyro vector's normalised autocorrelation
    active       <=> not walking and (std(a) >= active_acc_m_s2  or  spread >= active_gyr_rad_s
                     or (spread >= rhythm_gyr_rad_s and r_gyr >= min_periodicity_gyr))
    machine      <=> walking, but over the last ~machine_tau_s the trunk's yaw rate about the vertical has a
                     spread >= machine_yaw_rad_s while the vertical acceleration is symmetric (skewness
                     < machine_max_skew): a cross trainer / elliptical. Its feet never leave the pedals, so
                     there is no heel strike (walking and stairs: vertical skewness about 0.4-1.3, sharp
                     upward peaks), and the arms on the handles turn the trunk (yaw spread 0.7-1.4 rad/s
                     against 0.2-0.6 walking, DSADS p1-p4). Such windows are `active`, with no steps.
    stepper      <=> walking, but over the walking windows of the last ~machine_tau_s (running means)
                         c^2 * sway / tilt < stepper_max_score   (until it reaches stepper_exit_score)
                     or  c < stepper_max_xcorr and tilt >= stepper_tilt_rad_s,
                     with c = max over both horizontal principal axes and lags of +-0.24 s of |xcorr(h, v)|,
                     tilt = largest principal spread of the horizontal rotation rate (rad/s), and
                     sway = horizontal over vertical velocity swing (0.7-6 Hz) once the gravity that the
                     trunk's tilt shows in the horizontal acceleration (-phi x g, phi the integrated rotation
                     rate) is taken out. A stair stepper: stairs' step rhythm, but nobody goes anywhere.
                     Walking and stairs do, so each step's braking and push-off are tied to its vertical
                     bounce (c high) and the body's horizontal velocity swings per step about as much as its
                     vertical one (per-subject median sway 0.66-1.14; stairs down 0.44-0.68); on the stepper
                     the body rises and sinks in place (c lower, sway 0.34-0.58), and what horizontal
                     acceleration it shows is largely the trunk rocking on the handles (tilt high: stairs
                     down, which also move little horizontally, rock less).
                     No one of the three separates all four DSADS development subjects; the score does
                     (p1-p4 per-subject medians: steppers 0.10-0.33; walking, treadmills flat and inclined,
                     stairs up and down never below 0.397, medians 0.59-3.1; the coupling counts squared,
                     the exponents chosen on p1-p4 for the widest gap). `active`, no steps.
    lying        <=> neither, and the window's gravity direction is >= lying_deg from upright, for lying_s
    not_worn     <=> spread < worn_gyr_rad_s and the gravity direction within worn_drift_deg, for worn_s
    sedentary    otherwise (sitting or standing still; a 6-axis IMU on the back can not tell the two apart)

The thresholds come from real trunk recordings (DSADS, bench/real_activity.py): at rest std(|acc|) stays
below about 0.3 m/s^2 while the gyro spread of real sway, breathing and fidgeting reaches 0.2 rad/s, so rest
is told by |acc| first and the gyro only counts when it is large or rhythmic (cycling rocks the trunk at the
pedal rate). Walking has std(|acc|) above 1 m/s^2. A table has no physiological micro-motion at all
(gyro spread at the sensor's noise, a few mrad/s; the quietest person about 0.015 rad/s).

Upright: the gravity direction in the sensor frame while upright comes from the mounting when there is
one (`upright_s`), otherwise it is learned from walking windows (people walk upright) at a cadence of at
least `upright_min_cadence_hz` (rocking on a foam roller can pass for the slowest steps); until then lying
can not be told from sitting and still windows are sedentary. Once it is known, a step rhythm with the trunk
past `lying_deg` from it is not walking (nobody walks lying down: a foam roller's rocking) but active.

Steps are cadence x time over the walking hops. The windows of a batch are evaluated together (FFT
autocorrelations). Walks and the transitions next to them: monitor.detect.walks; between two still periods:
monitor.detect.transition.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from monitor.detect.errors import DetectError
from monitor.events import Activity


@dataclass(frozen=True, slots=True)
class ActivityParams:
    """Settings of the activity classifier (defaults from real trunk recordings, see the module docstring)."""

    window_s: float = 4.0  #: analysis window, s
    hop_s: float = 1.0  #: decision step, s
    cadence_min_hz: float = 1.2  #: slowest step rate counted as walking (stairs are slow), Hz
    cadence_max_hz: float = 2.5  #: fastest step rate, Hz
    min_periodicity: float = 0.3  #: autocorrelation of |acc| at the step or stride lag
    min_half_stride: float = -0.8  #: the stride rhythm needs r above this at half the stride lag
    min_step_acc_m_s2: float = 0.8  #: std of |acc| in the window for walking, m/s^2
    max_step_acc_m_s2: float = 4.5  #: ... and below this (running, jumping are active; DSADS walking and
    #: stairs of p1-p4 stay below 3.6, jumping is 4.8-6), m/s^2
    active_gyr_rad_s: float = 0.4  #: rotation-rate spread for "active" whatever its rhythm, rad/s
    active_acc_m_s2: float = 0.4  #: |acc| spread for "active", m/s^2
    rhythm_gyr_rad_s: float = 0.12  #: a smaller rotation-rate spread counts when it is rhythmic, rad/s
    min_periodicity_gyr: float = 0.5  #: ... with this gyro autocorrelation over 0.4-2 s lags
    lying_deg: float = 55.0  #: still with the trunk this far from upright is lying, deg
    lying_s: float = 10.0  #: ... after this long (a stretch's held bend is shorter; at once within 3x this
    #: of the last lying hop, e.g. after turning over), s
    upright_walk_s: float = 10.0  #: walking needed to learn the upright direction, s
    #: only walking at this cadence or faster teaches the upright: a foam roller's rocking can pass for steps
    #: at the slowest step lags (about 1.2 Hz), real walking and stairs step faster, Hz
    upright_min_cadence_hz: float = 1.25
    worn_gyr_rad_s: float = 0.008  #: below this rotation-rate spread there is no body under the sensor, rad/s
    worn_drift_deg: float = 2.0  #: ... while the gravity direction moves less than this, deg
    worn_s: float = 120.0  #: ... for this long: not worn, s
    machine_yaw_rad_s: float = 0.6  #: trunk yaw rate spread (about the vertical) of an elliptical, rad/s
    machine_max_skew: float = 0.5  #: ... with vertical acceleration this symmetric (no heel strikes)
    machine_tau_s: float = 8.0  #: ... both averaged over this time constant: then walking is active, s
    #: a stepper when coupling^2 x sway / tilt rate (rad/s), each averaged over walking windows, is below this
    #: (DSADS p1-p4: steppers' medians 0.10-0.33, walking, treadmills and stairs never below 0.397)
    stepper_max_score: float = 0.35
    stepper_exit_score: float = 0.5  #: ... and stays one until the score reaches this (hysteresis)
    stepper_max_xcorr: float = 0.5  #: also a stepper: coupling below this (walking 0.55-0.9) ...
    stepper_tilt_rad_s: float = 0.3  #: ... with this trunk tilt-rate spread (both averaged over walking)
    #: after this long without a walking window the stepper's running means start again from walking's (a
    #: rowing session's few "steps" must not make the next walk, an hour later, a stepper)
    stepper_forget_s: float = 300.0

    def __post_init__(self) -> None:
        if not (0 < self.hop_s <= self.window_s):
            raise DetectError(f"need 0 < hop_s <= window_s, got {self.hop_s}, {self.window_s}")
        if not (0 < self.cadence_min_hz < self.cadence_max_hz):
            raise DetectError("need 0 < cadence_min_hz < cadence_max_hz")


@dataclass(frozen=True, slots=True)
class Hop:
    """The decision for one span of time."""

    start_s: float  #: first sample time of the span, s
    end_s: float  #: end of the span (start of the next one), s
    activity: Activity
    cadence_hz: float = 0.0  #: step rate while walking, Hz (0 otherwise)
    gyr_spread_rad_s: float = 0.0  #: sqrt of the summed per-axis gyro variance in the window, rad/s
    acc_spread_m_s2: float = 0.0  #: std of |acc| in the window, m/s^2
    rhythmic: bool = False  #: a step rhythm: walking, or a machine exercise taken for active (no stretch)

    @property
    def steps(self) -> float:
        """Steps in the span (fractional): cadence x duration."""
        return self.cadence_hz * (self.end_s - self.start_s)


def _autocorr(x: np.ndarray, max_lag: int) -> np.ndarray:
    """x (n, w) or (n, 3, w), zero-mean rows -> (n, max_lag + 1) normalised autocorrelation r(k)."""
    w = x.shape[-1]
    f = np.fft.rfft(x, n=2 * w, axis=-1)
    ac = np.fft.irfft(f.real**2 + f.imag**2, n=2 * w, axis=-1)[..., : max_lag + 1]
    if ac.ndim == 3:
        ac = ac.sum(axis=1)
    return ac / np.maximum(ac[:, :1], 1e-12) * (w / (w - np.arange(max_lag + 1)))


def _stepper_features(acc: np.ndarray, g: np.ndarray, up: np.ndarray, v: np.ndarray, max_lag: int, fs: float
                      ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per window (acc (n,3,w), g (n,3,w) zero-mean, up (n,3), v (n,w) zero-mean vertical acceleration):
    the largest |normalised cross-correlation| of v with either horizontal principal axis of the
    acceleration within +-max_lag samples, the largest principal spread of the horizontal rotation rate, and
    the horizontal velocity swing over the vertical one (`sway`, below; fs the sample rate, Hz)."""
    w = v.shape[1]
    hor = acc - np.einsum("nw,nk->nkw", np.einsum("nkw,nk->nw", acc, up), up)
    hor = hor - hor.mean(axis=2, keepdims=True)
    _, vecs = np.linalg.eigh(np.einsum("nkw,njw->nkj", hor, hor))
    axes = np.einsum("nkw,nkj->njw", hor, vecs[:, :, 1:])  # (n, 2, w): the two horizontal principal axes

    def unit(x: np.ndarray) -> np.ndarray:
        return (x - x.mean(axis=-1, keepdims=True)) / np.maximum(x.std(axis=-1, keepdims=True), 1e-9)

    vz, hz = unit(v)[:, None, :], unit(axes)
    xc = np.zeros(len(v))
    for k in range(-max_lag, max_lag + 1):
        prod = vz[..., : w - k] * hz[..., k:] if k >= 0 else vz[..., -k:] * hz[..., : w + k]
        xc = np.maximum(xc, np.abs(prod.mean(axis=2)).max(axis=1))
    gh = g - np.einsum("nw,nk->nkw", np.einsum("nkw,nk->nw", g, up), up)
    tilt = np.sqrt(np.maximum(np.linalg.eigvalsh(np.einsum("nkw,njw->nkj", gh, gh) / w)[:, -1], 0.0))
    return xc, tilt, _sway(hor, g, up, v, fs)


def _sway(hor: np.ndarray, g: np.ndarray, up: np.ndarray, v: np.ndarray, fs: float) -> np.ndarray:
    """Horizontal over vertical velocity swing of the trunk (0.7-6 Hz), the trunk's tilt taken out.

    A tilt of the trunk by a small angle phi (the integral of the rotation rate) shows gravity in the
    horizontal acceleration as -phi x g: that is the trunk rocking, not the body moving, so it is removed
    first (phi from the rotation rate band-passed 0.5-6 Hz). What is left, integrated once over 0.7-6 Hz
    (Hann window), is the body's horizontal velocity swing; the same for the vertical acceleration gives the
    bounce's. hor (n,3,w) zero-mean horizontal acceleration, g (n,3,w) zero-mean rotation rate."""
    w = v.shape[1]
    f = np.fft.rfftfreq(w, 1.0 / fs)
    jw = np.where(f > 0, 2j * np.pi * f, 1.0)
    phi = np.fft.irfft(np.where((f >= 0.5) & (f <= 6.0), np.fft.rfft(g, axis=2) / jw, 0.0), n=w, axis=2)
    leak = -np.cross(phi, 9.81 * up[:, :, None], axisa=1, axisb=1, axisc=1)
    leak -= np.einsum("nw,nk->nkw", np.einsum("nkw,nk->nw", leak, up), up)
    a_h = np.fft.irfft(np.where((f >= 0.5) & (f <= 6.0), np.fft.rfft(hor, axis=2), 0.0), n=w, axis=2) - leak
    hann = np.hanning(w)
    band = (f >= 0.7) & (f <= 6.0)

    def swing(x: np.ndarray) -> np.ndarray:  # sum over the leading axes of the band's |velocity|^2
        y = np.fft.rfft((x - x.mean(axis=-1, keepdims=True)) * hann, axis=-1)[..., band] / jw[band]
        return (y.real**2 + y.imag**2).reshape(len(x), -1).sum(axis=1)

    return np.sqrt(swing(a_h) / np.maximum(swing(v), 1e-12))


#: the stepper's running means (h-v coupling, tilt rate rad/s, sway) before any walking window: walking's
STEPPER_START = (1.0, 0.0, 1.0)


def stepper_score(xc: float, tilt: float, sway: float) -> float:
    """c^2 x sway / tilt rate over the running means: low on a stepper (see the module docstring)."""
    return xc**2 * sway / max(tilt, 1e-6)


class ActivityClassifier:
    """Streaming classifier: `feed` batches of samples, get the hops whose window is complete."""

    def __init__(self, params: ActivityParams = ActivityParams(), upright_s: np.ndarray | None = None) -> None:
        self.params = params
        #: (3,) unit earth-up in the sensor frame while upright (from the mounting, or learned from walking)
        self.upright_s: np.ndarray | None = None if upright_s is None else np.asarray(upright_s, dtype=float)
        self._up_sum = np.zeros(3)
        self._up_walk_s = 0.0
        self._learned = False  # upright_s was learned here (not given): keep refining it
        self._t = np.zeros(0)
        self._acc = np.zeros((0, 3))
        self._g = np.zeros((0, 3))
        self._fs = math.nan
        self._first = True
        self._last: Hop | None = None
        self._quiet_since = math.nan  # start of the current run of quiet windows, s
        self._tilted_since = math.nan  # start of the current still run far from upright, s
        self._lying_t = -math.inf  # last hop called lying, s
        self._quiet_up = np.zeros(3)  # its gravity direction
        self._m_yaw = 0.0  # running means of the yaw spread and vertical skewness (machine exercise)
        self._m_skew = 1.0
        # running means over walking windows of the h-v coupling, tilt rate, sway (stepper), and whether the
        # score went below stepper_max_score and has not reached the exit since
        (self._m_xc, self._m_tilt, self._m_sway), self._stepper = STEPPER_START, False
        self._last_walking_s = -math.inf  # end of the last walking window (before the stepper test)

    def feed(self, t_s: np.ndarray, acc: np.ndarray, gyr: np.ndarray) -> list[Hop]:
        """Samples t_s (N,) s, acc (N,3) m/s^2, gyr (N,3) rad/s -> hops decided by this batch."""
        t_s = np.asarray(t_s, dtype=np.float64).reshape(-1)
        acc = np.asarray(acc, dtype=np.float64)
        gyr = np.asarray(gyr, dtype=np.float64)
        if acc.shape != (len(t_s), 3) or gyr.shape != (len(t_s), 3):
            raise DetectError(f"shape mismatch: t_s {t_s.shape}, acc {acc.shape}, gyr {gyr.shape}")
        self._t = np.concatenate((self._t, t_s))
        self._acc = np.concatenate((self._acc, acc))
        self._g = np.concatenate((self._g, gyr))
        if not math.isfinite(self._fs):
            if len(self._t) < 20:
                return []
            dt = float(np.median(np.diff(self._t)))
            if not dt > 0:
                raise DetectError("timestamps do not increase")
            self._fs = 1.0 / dt
        p = self.params
        w = max(8, int(round(p.window_s * self._fs)))
        h = max(1, int(round(p.hop_s * self._fs)))
        n_hops = (len(self._t) - w) // h + 1 if len(self._t) >= w else 0
        if n_hops <= 0:
            return []
        hops = self._classify(w, h, n_hops)
        self._t = self._t[n_hops * h :]
        self._acc = self._acc[n_hops * h :]
        self._g = self._g[n_hops * h :]
        return hops

    def finish(self) -> list[Hop]:
        """Label the samples left in the buffer like the last decision (end of data)."""
        if self._last is None or len(self._t) == 0:
            return []
        end = float(self._t[-1]) + 1.0 / self._fs
        if end <= self._last.end_s:
            return []
        last = self._last
        hop = Hop(last.end_s, end, last.activity, last.cadence_hz, last.gyr_spread_rad_s, last.acc_spread_m_s2,
                  last.rhythmic)
        self._t = self._t[:0]
        return [hop]

    def _classify(self, w: int, h: int, n_hops: int) -> list[Hop]:
        p = self.params
        fs = self._fs
        acc = sliding_window_view(self._acc, w, axis=0)[: n_hops * h : h]  # (n_hops, 3, w)
        a = np.linalg.norm(acc, axis=1)
        a = a - a.mean(axis=1, keepdims=True)
        std_a = np.sqrt((a * a).mean(axis=1))
        up = acc.mean(axis=2)
        up /= np.maximum(np.linalg.norm(up, axis=1, keepdims=True), 1e-9)
        k_lo = max(1, int(math.floor(fs / p.cadence_max_hz)))
        k_hi = min(w // 2 - 1, int(math.ceil(fs / p.cadence_min_hz)))
        r = _autocorr(a, min(w - 2, 2 * k_hi))
        r_step = r[:, k_lo : k_hi + 1]
        r_stride = r[:, 2 * k_lo : 2 * k_hi + 1]
        i_step, i_stride = r_step.argmax(axis=1), r_stride.argmax(axis=1)
        rows = np.arange(n_hops)
        best_step, best_stride = r_step[rows, i_step], r_stride[rows, i_stride]
        # a stride holds two steps: half-way through it |acc| is not anti-correlated (a slow rhythm is)
        half = r[rows, (2 * k_lo + i_stride) // 2]
        best_stride = np.where(half > p.min_half_stride, best_stride, -1.0)
        cadence = np.where(
            best_step >= p.min_periodicity, fs / (k_lo + i_step), 2 * fs / (2 * k_lo + i_stride)
        )
        g = sliding_window_view(self._g, w, axis=0)[: n_hops * h : h]  # (n_hops, 3, w)
        g = g - g.mean(axis=2, keepdims=True)
        spread = np.sqrt((g * g).mean(axis=2).sum(axis=1))
        g_lo, g_hi = max(1, int(round(0.4 * fs))), min(w - 2, int(round(2.0 * fs)))
        r_gyr = _autocorr(g, g_hi)[:, g_lo:].max(axis=1)
        # vertical (along the window's gravity) acceleration skewness and yaw-rate spread about the vertical
        v = np.einsum("nkw,nk->nw", acc, up)
        v -= v.mean(axis=1, keepdims=True)
        sd_v = np.sqrt((v * v).mean(axis=1))
        skew = (v**3).mean(axis=1) / np.maximum(sd_v**3, 1e-12)
        yaw = np.einsum("nkw,nk->nw", g, up).std(axis=1)
        walking = (
            (np.maximum(best_step, best_stride) >= p.min_periodicity)
            & (std_a >= p.min_step_acc_m_s2)
            & (std_a < p.max_step_acc_m_s2)
        )
        xc, tilt, sway = np.zeros(len(v)), np.zeros(len(v)), np.zeros(len(v))  # for walking windows only
        if (iw := np.flatnonzero(walking)).size:
            xc[iw], tilt[iw], sway[iw] = _stepper_features(acc[iw], g[iw], up[iw], v[iw], int(round(0.24 * fs)), fs)
        active = ~walking & (
            (std_a >= p.active_acc_m_s2)
            | (spread >= p.active_gyr_rad_s)
            | ((spread >= p.rhythm_gyr_rad_s) & (r_gyr >= p.min_periodicity_gyr))
        )
        off = (w - h) // 2
        hops: list[Hop] = []
        dt = 1.0 / fs
        alpha = min(1.0, p.hop_s / p.machine_tau_s)
        for i in range(n_hops):
            i0 = i * h + off
            start = float(self._t[i0]) if not (self._first and i == 0) else float(self._t[0])
            end = float(self._t[i0 + h]) if i0 + h < len(self._t) else float(self._t[i0 + h - 1]) + dt
            self._m_yaw += alpha * (float(yaw[i]) - self._m_yaw)
            self._m_skew += alpha * (float(skew[i]) - self._m_skew)
            rhythmic = bool(walking[i])
            if walking[i]:
                if start - self._last_walking_s > p.stepper_forget_s:  # a new bout: no stepper evidence yet
                    (self._m_xc, self._m_tilt, self._m_sway), self._stepper = STEPPER_START, False
                self._last_walking_s = end
                self._m_xc += alpha * (float(xc[i]) - self._m_xc)
                self._m_tilt += alpha * (float(tilt[i]) - self._m_tilt)
                self._m_sway += alpha * (float(sway[i]) - self._m_sway)
                score = stepper_score(self._m_xc, self._m_tilt, self._m_sway)
                if score < p.stepper_max_score or score >= p.stepper_exit_score:
                    self._stepper = score < p.stepper_max_score
                if self._m_xc < p.stepper_max_xcorr and self._m_tilt >= p.stepper_tilt_rad_s:
                    self._stepper = True  # hardly coupled while the trunk rocks: a stepper whatever the sway
            if walking[i] and self._m_yaw >= p.machine_yaw_rad_s and self._m_skew < p.machine_max_skew:
                walking[i], active[i] = False, True  # a cross trainer: active, no steps
            if walking[i] and self._stepper:
                walking[i], active[i] = False, True  # a stair stepper: active, no steps
            if walking[i] and self._tilted(up[i]):
                walking[i], active[i] = False, True  # nobody walks with the trunk past lying_deg: a foam roller
            if walking[i]:
                act = Activity.WALKING
                if cadence[i] >= p.upright_min_cadence_hz:
                    self._learn_upright(up[i], end - start)
            elif active[i]:
                act = Activity.ACTIVE
            elif self._worn(start, up[i], float(spread[i])) is False:
                act = Activity.NOT_WORN
            elif self._lying(start, up[i]):
                act = Activity.LYING
            else:
                act = Activity.SEDENTARY
            if act != Activity.LYING and not (act == Activity.SEDENTARY and self._tilted(up[i])):
                self._tilted_since = math.nan
            if walking[i] or active[i]:
                self._quiet_since = math.nan
            cad = float(cadence[i]) if walking[i] else 0.0
            hops.append(Hop(start, end, act, cad, float(spread[i]), float(std_a[i]), rhythmic))
        self._first = False
        self._last = hops[-1]
        return hops

    def _tilted(self, up: np.ndarray) -> bool:
        return self.upright_s is not None and float(up @ self.upright_s) <= math.cos(
            math.radians(self.params.lying_deg)
        )

    def _lying(self, t_s: float, up: np.ndarray) -> bool:
        """Still and far from upright for lying_s (a held toe-touch of a stretch is shorter)."""
        if not self._tilted(up):
            return False
        if not math.isfinite(self._tilted_since):
            self._tilted_since = t_s
        if t_s - self._tilted_since >= self.params.lying_s or t_s - self._lying_t <= 3 * self.params.lying_s:
            self._lying_t = t_s  # still lying after turning over, or scratching: no new wait
            return True
        return False

    def _worn(self, t_s: float, up: np.ndarray, spread: float) -> bool | None:
        """False once the sensor has been motionless (no micro-motion, fixed attitude) for worn_s."""
        p = self.params
        if spread >= p.worn_gyr_rad_s:
            self._quiet_since = math.nan
            return None
        if not math.isfinite(self._quiet_since) or float(up @ self._quiet_up) < math.cos(
            math.radians(p.worn_drift_deg)
        ):
            self._quiet_since, self._quiet_up = t_s, up.copy()
        return False if t_s - self._quiet_since >= p.worn_s else None

    def _learn_upright(self, up: np.ndarray, dur_s: float) -> None:
        self._up_sum += up * dur_s
        self._up_walk_s += dur_s
        if self._up_walk_s >= self.params.upright_walk_s and (self._learned or self.upright_s is None):
            self._learned = True
            self.upright_s = self._up_sum / np.linalg.norm(self._up_sum)


__all__ = [
    "ActivityClassifier",
    "ActivityParams",
    "Hop",
]
