"""The day report's charts, drawn as inline SVG from the 10 s aggregates (no scripts, no fetches).

    _timeline(aggs, events, summary, tz, narrow=False)    lean, forward bend, activity and events over the day
    _histogram(aggs)                                       minutes of still time per 1° of lean
    _hourly(summary)                                       sitting / walking / active minutes per hour

Text sizes are in SVG user units, so what a reader sees is the font size times the chart's scale. The
timeline is drawn twice, 1060 units wide for a desktop and 360 wide for a phone (report_html shows one
of them by a media query), so its labels stay at least 10 CSS px on a 390 px screen. The histogram and the
hourly chart are 520 units wide and have room for the larger font the phone layout sets on them.
Colours are given as attributes and classes; the page's dark-mode rules recolour grid lines and text.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import datetime, tzinfo
from html import escape

import numpy as np

from monitor.events import Activity, Aggregate
from monitor.report.summary import DayEvents, DaySummary

LEFT, RIGHT, NEUTRAL = "#2f6fde", "#e8702a", "#9aa7b8"
SIT, WALK, ACTIVE = "#cfd8e3", "#2fa866", "#17a2a2"
#: event marks: each its own colour, none shared with the lean sides (left lean, left nudge and break
#: were all blue once)
ALERT, BREAK, LEAN_NUDGE = "#d62f3a", "#c9a227", "#1d2733"
SLOUCH, LEAN_LINE, FLEX_LINE = "#8a5cd1", "#33475b", "#6b4fa3"
_ACT_COLOR = {Activity.SEDENTARY: SIT, Activity.WALKING: WALK, Activity.ACTIVE: ACTIVE,
              Activity.TRANSITION: ACTIVE, Activity.UNKNOWN: "#e6e9ee"}


def _dur(s: float | None) -> str:
    """"7 h 05 min", "12 min", "45 s", "0 min"."""
    if s is None:
        return "–"
    if s <= 0:
        return "0 min"
    if s < 60:
        return f"{s:.0f} s"
    m = int(round(s / 60.0))
    return f"{m // 60} h {m % 60:02d} min" if m >= 60 else f"{m} min"


def _clock(t: float, tz: tzinfo | None) -> str:
    return datetime.fromtimestamp(t, tz).strftime("%H:%M")


def _rect(x: float, y: float, w: float, h: float, fill: str, title: str = "", extra: str = "") -> str:
    t = f"<title>{escape(title)}</title></rect>" if title else "</rect>"
    return f'<rect x="{x:.1f}" y="{y:.1f}" width="{w:.1f}" height="{h:.1f}" fill="{fill}"{extra}>{t}'


def _text(x: float, y: float, text: str, anchor: str = "start", extra: str = "") -> str:
    return f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}"{extra}>{escape(text)}</text>'


def _hline(x1: float, x2: float, y: float, stroke: str = "#eef1f5", dash: str = "") -> str:
    d = f' stroke-dasharray="{dash}"' if dash else ""
    cls = "guide" if stroke == "#c3ccd6" else "grid"
    return (f'<line x1="{x1:.1f}" x2="{x2:.1f}" y1="{y:.1f}" y2="{y:.1f}" stroke="{stroke}"{d} '
            f'class="{cls}"/>')


def _svg(w: float, h: float, cls: str, label: str) -> str:
    return (f'<svg viewBox="0 0 {w:.0f} {h:.0f}" width="{w:.0f}" height="{h:.0f}" role="img" '
            f'aria-label="{escape(label)}" class="{cls}">')


def _still(a: Aggregate) -> bool:
    return (a.activity in (Activity.SEDENTARY, Activity.UNKNOWN) and math.isfinite(a.lean_mean_deg)
            and math.isfinite(a.flexion_mean_deg))


def _nudge_mark(kind: str, side: str | None) -> tuple[str, str]:
    """(colour, direction) of an alert's mark: lean nudges point up for right and down for left, as the
    lean panel does."""
    if kind == "lean":
        return LEAN_NUDGE, "down" if side == "left" else "up"
    return (SLOUCH if kind == "flexion" else ALERT), "up"


def _timeline(aggs: Sequence[Aggregate], ev: DayEvents, s: DaySummary, tz: tzinfo | None,
              narrow: bool = False) -> str:
    off = s.wall_offset_s
    h0 = math.floor((aggs[0].start_s + off) / 3600.0) * 3600.0
    h1 = max(math.ceil((aggs[-1].start_s + aggs[-1].duration_s + off) / 3600.0) * 3600.0, h0 + 3600.0)
    if narrow:
        W, L, R, H = 360.0, 54.0, 8.0, 400.0
        lean_y, lean_h, flex_y, flex_h, strip_y, mark_y = 18.0, 160.0, 204.0, 112.0, 332.0, 358.0
    else:
        W, L, R, H = 1060.0, 66.0, 22.0, 418.0
        lean_y, lean_h, flex_y, flex_h, strip_y, mark_y = 18.0, 170.0, 214.0, 120.0, 350.0, 376.0

    def x(tt: float) -> float:
        return L + (tt + off - h0) / (h1 - h0) * (W - L - R)

    def span(t0: float, t1: float, least: float = 1.0) -> tuple[float, float]:
        return x(t0), max(least, x(t1) - x(t0))

    def ly(v: float) -> float:
        return lean_y + lean_h / 2 - max(-20.0, min(20.0, v)) / 20.0 * (lean_h / 2)

    def fy(v: float) -> float:
        return flex_y + flex_h - (max(-10.0, min(70.0, v)) + 10.0) / 80.0 * flex_h

    cls = "timeline narrow" if narrow else "timeline wide"
    o = [_svg(W, H, cls, "lean and forward bend through the day")]
    for w in ev.walks:  # walks: green spans behind both panels
        x0, w_ = span(w.start_s, w.end_s)
        o.append(_rect(x0, lean_y, w_, flex_y + flex_h - lean_y, WALK, f"walk, {w.steps} steps",
                       ' opacity=".12"'))
    o.append(_rect(L, ly(5), W - L - R, ly(-5) - ly(5), "#eaf5ee", extra=' class="band"'))
    o += [_hline(L, W - R, ly(v), "#c3ccd6", "4 4") for v in (-10, 10)]
    o += [_text(L - 6, ly(v) + 4, f"{v:+d}°" if v else "0°", "end") for v in (-20, -10, 0, 10, 20)]
    o.append(_text(L + 4, lean_y + 11, "right ↑", extra=f' fill="{RIGHT}"'))
    o.append(_text(L + 4, lean_y + lean_h - 4, "left ↓", extra=f' fill="{LEFT}"'))
    for e in ev.lean_episodes:
        x0, w_ = span(e.start_s, e.end_s, 2.0)
        o.append(_rect(x0, lean_y, w_, lean_h, RIGHT if e.side == "right" else LEFT,
                       f"lean {e.side} {_dur(e.end_s - e.start_s)}, up to {e.peak_deg:.0f}°",
                       ' opacity=".22" class="lean-episode"'))
    for v in (0, 20, 60):
        o.append(_hline(L, W - R, fy(v), "#c3ccd6", "" if v == 0 else "4 4"))
        o.append(_text(L - 6, fy(v) + 4, f"{v}°", "end"))
    o.append(_text(L + 4, flex_y + 11, "forward bend"))
    for fe in ev.flexion_episodes:
        x0, w_ = span(fe.start_s, fe.end_s, 2.0)
        o.append(_rect(x0, flex_y, w_, flex_h, SLOUCH, f"slouch {_dur(fe.end_s - fe.start_s)}",
                       ' opacity=".2"'))
    lean_pts, flex_pts = [], []
    prev_end: float | None = None
    for a in aggs:  # the still windows only; moving shows in the activity strip
        if not _still(a):
            prev_end = None
            continue
        cmd = "M" if prev_end is None or a.start_s - prev_end > 30.0 else "L"
        xm = x(a.start_s + a.duration_s / 2)
        lean_pts.append(f"{cmd}{xm:.1f} {ly(a.lean_mean_deg):.1f}")
        flex_pts.append(f"{cmd}{xm:.1f} {fy(a.flexion_mean_deg):.1f}")
        prev_end = a.start_s + a.duration_s
    for pts, colour, line_cls in ((lean_pts, LEAN_LINE, "lean-line"), (flex_pts, FLEX_LINE, "flexion-line")):
        o.append(f'<path d="{"".join(pts)}" fill="none" stroke="{colour}" stroke-width="1.2" '
                 f'class="{line_cls}"/>')
    runs: list[list] = []  # activity strip: [activity, start_s, end_s] runs of adjacent windows
    for a in aggs:
        if runs and runs[-1][0] == a.activity and a.start_s - runs[-1][2] < 1.0:
            runs[-1][2] = a.start_s + a.duration_s
        else:
            runs.append([a.activity, a.start_s, a.start_s + a.duration_s])
    for act, r0, r1 in runs:
        if act in _ACT_COLOR:
            x0, w_ = span(r0, r1, 0.6)
            o.append(_rect(x0, strip_y, w_, 14, _ACT_COLOR[act]))
    o.append(_text(L - 6, strip_y + 11, "activity", "end") + _text(L - 6, mark_y + 11, "events", "end"))
    for b in ev.breaks:
        x0, w_ = span(b.start_s, b.end_s, 3.0)
        o.append(_rect(x0, mark_y, w_, 7, BREAK, f"break {_dur(b.end_s - b.start_s)}"
                       + (" after a reminder" if b.prompted else ""), ' rx="3" class="break"'))
    for al in ev.alerts:
        col, way = _nudge_mark(al.alert_kind, al.side)
        tip = escape(f"{al.alert_kind} alert {_clock(al.t_s + off, tz)}: {al.text}")
        shape = f"M{x(al.t_s):.1f} {mark_y + 10}l-4.5 8h9z" if way == "up" else \
            f"M{x(al.t_s):.1f} {mark_y + 18}l-4.5 -8h9z"
        o.append(f'<path d="{shape}" fill="{col}" class="nudge nudge-{escape(al.alert_kind)}">'
                 f"<title>{tip}</title></path>")
    hh = h0
    per_label_s = (h1 - h0) / (W - L - R) * (44.0 if narrow else 40.0)  # one label per this much time
    step = next(k * 3600.0 for k in (1, 2, 3, 4, 6, 12) if k * 3600.0 >= per_label_s)
    while hh <= h1 + 1:
        xx = L + (hh - h0) / (h1 - h0) * (W - L - R)
        o.append(f'<line x1="{xx:.1f}" x2="{xx:.1f}" y1="{lean_y}" y2="{strip_y + 14}" stroke="#eef1f5" '
                 'class="grid"/>' + _text(xx, H - 4, _clock(hh, tz), "middle"))
        hh += step
    o.append("</svg>")
    return "".join(o)


def _histogram(aggs: Sequence[Aggregate]) -> str:
    """Minutes of still time per 1° of mean lean, -20..+20 (beyond goes to the end bins); the neutral bars
    are cut when they would dwarf the lateral ones."""
    posture = [a for a in aggs if _still(a)]
    lean = np.array([a.lean_mean_deg for a in posture])
    w = np.array([a.duration_s * a.worn_fraction for a in posture]) / 60.0
    edges = np.arange(-20.0, 21.0, 1.0)
    minutes = (np.histogram(np.clip(lean, -19.999, 19.999), bins=edges, weights=w)[0] if len(lean)
               else np.zeros(40))
    side = np.abs(edges[:-1] + 0.5) >= 5
    cap = max(float(minutes[side].max()) * 1.3, 5.0)
    W, H, L, B, R = 520.0, 264.0, 44.0, 44.0, 24.0
    bw = (W - L - R) / 40
    ph = H - B - 28
    o = [_svg(W, H, "histogram", "lean histogram")]
    for k in range(5):
        yy = H - B - ph * k / 4
        o.append(_hline(L, W - R, yy) + _text(L - 5, yy + 4, f"{cap * k / 4:.0f}", "end"))
    clipped = []
    for i, m in enumerate(minutes):
        c = edges[i] + 0.5
        h = min(m, cap) / cap * ph
        xx = L + i * bw
        o.append(_rect(xx + 1, H - B - h, bw - 2, h, NEUTRAL if abs(c) < 5 else (RIGHT if c > 0 else LEFT),
                       f"{edges[i]:+.0f}° to {edges[i + 1]:+.0f}°: {_dur(m * 60)}", ' rx="2"'))
        if m > cap:  # cut: a notch in the page's colour across the bar
            clipped.append(xx + bw / 2)
            o.append(f'<path d="M{xx:.1f} {H - B - h + 12:.1f}l{bw:.1f} -5v4l-{bw:.1f} 5z" fill="#fff" '
                     'class="notch"/>')
    if clipped:
        within = _dur(float(minutes[~side].sum()) * 60)
        o.append(_text(sum(clipped) / len(clipped), 18, f"{within} within ±5° (bars cut)", "middle",
                       ' class="strong"'))
    o += [_text(L + (v + 20) * bw, H - B + 18, f"{v:+d}°" if v else "0°", "middle")
          for v in (-20, -10, -5, 0, 5, 10, 20)]
    o.append(_text(L, H - 4, "◀ left", extra=f' fill="{LEFT}"')
             + _text(W - R, H - 4, "right ▶", "end", f' fill="{RIGHT}"') + _text(4, 16, "minutes"))
    o.append("</svg>")
    return "".join(o)


def _steps(n: int) -> str:
    """"850", "4.3k": short enough to sit above an hour's bar at the phone layout's font size."""
    return f"{n}" if n < 1000 else f"{n / 1000:.1f}k"


def _hourly(s: DaySummary) -> str:
    W, H, L, B = 520.0, 264.0, 44.0, 30.0
    hours = list(s.hourly)
    if not hours:
        return _svg(W, H, "hourly", "activity per hour") + "</svg>"
    lo, hi = hours[0].hour, hours[-1].hour
    n = hi - lo + 1
    bw = (W - L - 10) / n
    by = {h.hour: h for h in hours}
    ph = H - B - 56
    o = [_svg(W, H, "hourly", "activity per hour")]
    for v in (0, 15, 30, 45, 60):
        yy = H - B - ph * v / 60
        o.append(_hline(L, W - 10, yy) + _text(L - 5, yy + 4, str(v), "end"))
    label_every = max(1, math.ceil(n * 30.0 / (W - L - 10)))  # hour labels at least 30 units apart
    for k in range(n):
        h = by.get(lo + k)
        xx = L + k * bw
        if h is not None:
            y = H - B
            for val, col, name in ((h.sedentary_s, SIT, "sitting/still"), (h.walking_s, WALK, "walking"),
                                   (h.active_s, ACTIVE, "active")):
                hh = min(val / 3600.0, 1.0) * ph
                if hh > 0:
                    o.append(_rect(xx + 3, y - hh, bw - 6, hh, col, f"{lo + k:02d}:00 {name} {_dur(val)}"))
                    y -= hh
            if h.steps and bw >= 30:
                o.append(_text(xx + bw / 2, y - 5, _steps(h.steps), "middle", ' class="steps"'))
        if k % label_every == 0:
            o.append(_text(xx + bw / 2, H - B + 18, f"{lo + k:02d}", "middle"))
    o.append(_text(4, 16, "minutes per hour; the numbers are steps") + "</svg>")
    return "".join(o)


__all__ = ["ACTIVE", "ALERT", "BREAK", "FLEX_LINE", "LEAN_LINE", "LEAN_NUDGE", "LEFT", "NEUTRAL", "RIGHT",
           "SIT", "SLOUCH", "WALK"]
