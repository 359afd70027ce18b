"""The HTML day report: one self-contained file (inline CSS and SVG, no scripts, no network fetches).

    html = render_day(summary, events)          # a DaySummary and the DayEvents it came from

It shows the key numbers as cards, the day in plain words, a timeline of lean and flexion with the
activity strip, lean and slouch episodes, walks, breaks and alerts marked, a left/right lean histogram
and hourly activity bars. Charts are drawn here as SVG from the 10 s aggregates.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import datetime, tzinfo
from html import escape

import numpy as np

from monitor.events import Activity, Aggregate
from monitor.summary import DayEvents, DaySummary

LEFT, RIGHT, NEUTRAL = "#2f6fde", "#e8702a", "#9aa7b8"
SIT, WALK, ACTIVE, ALERT, BREAK = "#cfd8e3", "#2fa866", "#17a2a2", "#d62f3a", "#2f54c9"
_ACT_COLOR = {Activity.SEDENTARY: SIT, Activity.WALKING: WALK, Activity.ACTIVE: ACTIVE,
              Activity.TRANSITION: ACTIVE, Activity.UNKNOWN: "#e6e9ee"}

_CSS = """
*{box-sizing:border-box} body{margin:0;background:#f4f6f9;color:#1d2733;font:15px/1.5 system-ui,-apple-system,
"Segoe UI",Roboto,Helvetica,Arial,sans-serif} main{max-width:1120px;margin:0 auto;padding:28px 28px 48px}
h1{font-size:26px;margin:0 0 2px} h2{font-size:18px;margin:0 0 10px} .sub{color:#5b6b7d;margin:0 0 22px}
.cards{display:grid;grid-template-columns:repeat(6,1fr);gap:12px;margin-bottom:22px}
.card{background:#fff;border-radius:12px;padding:14px 16px;box-shadow:0 1px 3px rgba(20,40,70,.08)}
.card .k{color:#5b6b7d;font-size:12px;text-transform:uppercase;letter-spacing:.04em}
.card .v{font-size:22px;font-weight:650;margin:2px 0} .card .d{font-size:12px;color:#5b6b7d}
.panel{background:#fff;border-radius:12px;padding:18px 20px;margin-bottom:18px;box-shadow:0 1px 3px rgba(20,40,70,.08)}
.row{display:grid;grid-template-columns:1fr 1fr;gap:18px} .row .panel{margin-bottom:0}
ul.words{margin:0;padding-left:20px} ul.words li{margin:4px 0}
.legend{display:flex;flex-wrap:wrap;gap:14px;font-size:12.5px;color:#40505f;margin-top:6px}
.legend i{display:inline-block;width:12px;height:12px;border-radius:3px;margin-right:5px;vertical-align:-1px}
svg{display:block;width:100%;height:auto} svg text{font:11px system-ui,sans-serif;fill:#5b6b7d}
.foot{color:#6b7a8b;font-size:12.5px;margin-top:18px}
"""


def _dur(s: float | None) -> str:
    if s is None:
        return "–"
    m = int(round(max(0.0, s) / 60.0))
    if s <= 0:
        return "0 min"
    if s < 60:
        return f"{s:.0f} s"
    return f"{m // 60} h {m % 60:02d} min" if m >= 60 else f"{m} min"


def _clock(t: float, tz: tzinfo | None) -> str:
    return datetime.fromtimestamp(t, tz).strftime("%H:%M")


def _delta_text(c: dict | None, key: str, unit: str, scale: float = 1.0, nd: int = 0, better: str = "") -> str:
    if not c or c.get(key, {}).get("delta") is None:
        return "no earlier days to compare"
    d = c[key]["delta"] * scale
    if abs(d) < 10 ** -nd / 2:
        return f"same as your {c['days']['count']:.0f}-day average"
    return f"{'▲' if d > 0 else '▼'} {abs(d):.{nd}f}{unit} vs {c['days']['count']:.0f}-day avg{better}"


def plain_words(s: DaySummary, tz: tzinfo | None = None) -> list[str]:
    """The day told in sentences."""
    if not s.wear_s:
        return ["No wear was recorded on this day."]
    b = s.lean_bands_s
    left, right = b["left_mild"] + b["left_strong"], b["right_mild"] + b["right_strong"]
    out = [f"You wore the sensor for {_dur(s.wear_s)}, from {s.clock(s.first_s, tz)} to {s.clock(s.last_s, tz)}."]
    upright = 100 * b["neutral"] / s.posture_s if s.posture_s else 0.0
    side = {"right": "your right side dominated", "left": "your left side dominated",
            "balanced": "your leaning was balanced between the sides", None: "there was too little leaning to "
            "compare the sides"}[s.dominant_side]
    idx = "" if s.asymmetry_index is None else f" (asymmetry {s.asymmetry_index:+.2f})"
    out.append(f"While sitting or standing still you were upright, within 5° of neutral, {upright:.0f} % of the time. "
               f"You leaned to the right for {_dur(right)} and to the left for {_dur(left)}: {side}{idx}.")
    lo = s.longest_lean
    if lo is None:
        out.append("You never held a lean of 10° or more for a minute.")
    else:
        out.append(f"Your longest sustained lean was {_dur(lo.end_s - lo.start_s)} to the {lo.side} at "
                   f"{s.clock(lo.start_s, tz)}, up to {lo.peak_deg:.0f}°; {s.sustained_lean_count} sustained leans "
                   f"took {_dur(s.sustained_lean_s)} in all.")
    if s.flexion_percentiles_deg:
        fb = list(s.flexion_bands_s.values())
        out.append(f"Your trunk was bent forward by {s.flexion_percentiles_deg[1]:.0f}° at the median; {_dur(fb[1])} "
                   f"at 20–60° and {_dur(fb[2])} beyond 60°, with {s.slouch_count} slouches ({_dur(s.slouch_s)}).")
    out.append(f"You sat for {_dur(s.sedentary_s)}, with {s.prolonged_bouts} stretches of more than 30 minutes; "
               f"the longest lasted {_dur(s.longest_bout_s)}.")
    out.append(f"You took {s.breaks_taken} breaks: {s.breaks_taken - s.breaks_prompted} on your own and "
               f"{s.breaks_prompted} after one of {s.sedentary_reminders} sitting reminders.")
    if s.alerts:
        parts = []
        for a in s.alerts:
            r = ", ".join(f"{v} {k}" for k, v in a.responses.items() if v)
            parts.append(f"{a.count} {a.alert_kind.replace('_', ' ')}" + (f" ({r})" if r else ""))
        out.append("Nudges: " + "; ".join(parts) + ".")
    out.append(f"You walked {s.steps:,} steps in {s.walks} walks ({_dur(s.walking_s)}).")
    if s.shifts_per_sitting_hour is not None:
        out.append(f"You shifted your posture {s.shifts_per_sitting_hour:.0f} times per sitting hour — moving "
                   "while you sit is good.")
    m, e = s.stretch_morning, s.stretch_evening
    out.append(f"Morning stretch: {'done at ' + str(s.clock(m.start_s, tz)) if m else 'not done'}. "
               f"Evening stretch: {'done at ' + str(s.clock(e.start_s, tz)) if e else 'not done'}.")
    return out


def _timeline(aggs: Sequence[Aggregate], ev: DayEvents, s: DaySummary, tz: tzinfo | None) -> str:
    off = s.wall_offset_s
    t = np.array([a.start_s + off for a in aggs])
    h0 = math.floor(t[0] / 3600.0) * 3600.0
    h1 = max(math.ceil((t[-1] + aggs[-1].duration_s) / 3600.0) * 3600.0, h0 + 3600.0)
    W, L, R = 1060.0, 58.0, 22.0
    lean_y, lean_h, flex_y, flex_h, strip_y, mark_y = 18.0, 170.0, 214.0, 120.0, 350.0, 376.0
    H = 418.0

    def x(tt: float) -> float:
        return L + (tt + off - h0) / (h1 - h0) * (W - L - R)

    def ly(v: float) -> float:
        return lean_y + lean_h / 2 - max(-20.0, min(20.0, v)) / 20.0 * (lean_h / 2)

    def fy(v: float) -> float:
        return flex_y + flex_h - (max(-10.0, min(70.0, v)) + 10.0) / 80.0 * flex_h

    o: list[str] = [f'<svg viewBox="0 0 {W:.0f} {H:.0f}" width="{W:.0f}" height="{H:.0f}" role="img" '
                    f'aria-label="lean and flexion through the day" class="timeline">']
    for w in ev.walks:  # walks: green spans behind both panels
        o.append(f'<rect x="{x(w.start_s):.1f}" y="{lean_y}" width="{max(1.0, x(w.end_s) - x(w.start_s)):.1f}" '
                 f'height="{flex_y + flex_h - lean_y}" fill="{WALK}" opacity=".12"/>')
    o.append(f'<rect x="{L}" y="{ly(5):.1f}" width="{W - L - R}" height="{ly(-5) - ly(5):.1f}" fill="#eaf5ee"/>')
    for v in (-10, 10):
        o.append(f'<line x1="{L}" x2="{W - R}" y1="{ly(v):.1f}" y2="{ly(v):.1f}" stroke="#c3ccd6" stroke-dasharray="4 4"/>')
    for v in (-20, -10, 0, 10, 20):
        o.append(f'<text x="{L - 6}" y="{ly(v) + 4:.1f}" text-anchor="end">{v:+d}°</text>' if v else
                 f'<text x="{L - 6}" y="{ly(v) + 4:.1f}" text-anchor="end">0°</text>')
    o.append(f'<text x="{L + 4}" y="{lean_y + 11}" fill="{RIGHT}">right ↑</text>'
             f'<text x="{L + 4}" y="{lean_y + lean_h - 4}" fill="{LEFT}">left ↓</text>')
    for e in ev.lean_episodes:
        c = RIGHT if e.side == "right" else LEFT
        o.append(f'<rect x="{x(e.start_s):.1f}" y="{lean_y}" width="{max(2.0, x(e.end_s) - x(e.start_s)):.1f}" '
                 f'height="{lean_h}" fill="{c}" opacity=".22" class="lean-episode"><title>lean {e.side} '
                 f'{_dur(e.end_s - e.start_s)}, up to {e.peak_deg:.0f}°</title></rect>')
    for v in (0, 20, 60):
        o.append(f'<line x1="{L}" x2="{W - R}" y1="{fy(v):.1f}" y2="{fy(v):.1f}" stroke="#c3ccd6" '
                 f'stroke-dasharray="{"0" if v == 0 else "4 4"}"/><text x="{L - 6}" y="{fy(v) + 4:.1f}" '
                 f'text-anchor="end">{v}°</text>')
    o.append(f'<text x="{L + 4}" y="{flex_y + 11}">forward bend</text>')
    for fe in ev.flexion_episodes:
        o.append(f'<rect x="{x(fe.start_s):.1f}" y="{flex_y}" width="{max(2.0, x(fe.end_s) - x(fe.start_s)):.1f}" '
                 f'height="{flex_h}" fill="#8a5cd1" opacity=".2"><title>slouch {_dur(fe.end_s - fe.start_s)}</title>'
                 '</rect>')
    lean_pts, flex_pts = [], []
    prev_end: float | None = None
    for a in aggs:
        if (a.activity not in (Activity.SEDENTARY, Activity.UNKNOWN)  # moving: see the activity strip
                or not (math.isfinite(a.lean_mean_deg) and math.isfinite(a.flexion_mean_deg))):
            prev_end = None
            continue
        cmd = "M" if prev_end is None or a.start_s - prev_end > 30.0 else "L"
        xm = x(a.start_s + a.duration_s / 2)
        lean_pts.append(f"{cmd}{xm:.1f} {ly(a.lean_mean_deg):.1f}")
        flex_pts.append(f"{cmd}{xm:.1f} {fy(a.flexion_mean_deg):.1f}")
        prev_end = a.start_s + a.duration_s
    o.append(f'<path d="{"".join(lean_pts)}" fill="none" stroke="#33475b" stroke-width="1.2" class="lean-line"/>')
    o.append(f'<path d="{"".join(flex_pts)}" fill="none" stroke="#6b4fa3" stroke-width="1.2" class="flexion-line"/>')
    runs: list[list] = []  # activity strip: [activity, start_s, end_s] runs of adjacent windows
    for a in aggs:
        if runs and runs[-1][0] == a.activity and a.start_s - runs[-1][2] < 1.0:
            runs[-1][2] = a.start_s + a.duration_s
        else:
            runs.append([a.activity, a.start_s, a.start_s + a.duration_s])
    for act, r0, r1 in runs:
        colour = _ACT_COLOR.get(act)
        if colour:
            o.append(f'<rect x="{x(r0):.2f}" y="{strip_y}" width="{max(0.6, x(r1) - x(r0)):.2f}" height="14" '
                     f'fill="{colour}"/>')
    o.append(f'<text x="{L - 6}" y="{strip_y + 11}" text-anchor="end">activity</text>')
    o.append(f'<text x="{L - 6}" y="{mark_y + 11}" text-anchor="end">events</text>')
    for b in ev.breaks:
        o.append(f'<rect x="{x(b.start_s):.1f}" y="{mark_y}" width="{max(3.0, x(b.end_s) - x(b.start_s)):.1f}" height="7" '
                 f'rx="3" fill="{BREAK}"><title>break {_dur(b.end_s - b.start_s)}'
                 f'{" after a reminder" if b.prompted else ""}</title></rect>')
    for al in ev.alerts:
        xa = x(al.t_s)
        col = {"lean": RIGHT if al.side == "right" else LEFT, "flexion": "#8a5cd1"}.get(al.alert_kind, ALERT)
        o.append(f'<path d="M{xa:.1f} {mark_y + 10}l-4.5 8h9z" fill="{col}"><title>{escape(al.alert_kind)} alert '
                 f'{_clock(al.t_s + off, tz)}: {escape(al.text)}</title></path>')
    hh = h0
    step = 3600.0 if h1 - h0 <= 14 * 3600 else 7200.0
    while hh <= h1 + 1:
        xx = L + (hh - h0) / (h1 - h0) * (W - L - R)
        o.append(f'<line x1="{xx:.1f}" x2="{xx:.1f}" y1="{lean_y}" y2="{strip_y + 14}" stroke="#eef1f5"/>'
                 f'<text x="{xx:.1f}" y="{H - 4}" text-anchor="middle">{_clock(hh, tz)}</text>')
        hh += step
    o.append("</svg>")
    return "".join(o)


def _histogram(aggs: Sequence[Aggregate]) -> str:
    """Minutes of still time per 1° of mean lean, -20..+20 (beyond goes to the end bins)."""
    posture = [a for a in aggs if a.activity in (Activity.SEDENTARY, Activity.UNKNOWN) and math.isfinite(a.lean_mean_deg)]
    lean = np.array([a.lean_mean_deg for a in posture])
    w = np.array([a.duration_s * a.worn_fraction for a in posture]) / 60.0
    edges = np.arange(-20.0, 21.0, 1.0)
    minutes, _ = np.histogram(np.clip(lean, -19.999, 19.999), bins=edges, weights=w) if len(lean) else (
        np.zeros(40), edges)
    side = np.abs(edges[:-1] + 0.5) >= 5
    cap = max(float(minutes[side].max()) * 1.3 if side.any() else 0.0, 5.0)
    W, H, L, B = 520.0, 250.0, 40.0, 30.0
    bw = (W - L - 10) / 40
    o = [f'<svg viewBox="0 0 {W:.0f} {H:.0f}" width="{W:.0f}" height="{H:.0f}" role="img" '
         f'aria-label="lean histogram" class="histogram">']
    for k in range(5):
        v = cap * k / 4
        yy = H - B - (H - B - 20) * k / 4
        o.append(f'<line x1="{L}" x2="{W - 10}" y1="{yy:.1f}" y2="{yy:.1f}" stroke="#eef1f5"/>'
                 f'<text x="{L - 5}" y="{yy + 4:.1f}" text-anchor="end">{v:.0f}</text>')
    clipped = []
    for i, m in enumerate(minutes):
        c = edges[i] + 0.5
        col = NEUTRAL if abs(c) < 5 else (RIGHT if c > 0 else LEFT)
        h = min(m, cap) / cap * (H - B - 20)
        xx = L + i * bw
        o.append(f'<rect x="{xx + 1:.1f}" y="{H - B - h:.1f}" width="{bw - 2:.1f}" height="{max(h, 0.0):.1f}" '
                 f'fill="{col}" rx="2"><title>{edges[i]:+.0f}° to {edges[i + 1]:+.0f}°: {_dur(m * 60)}</title></rect>')
        if m > cap:  # cut: a white notch across the bar
            clipped.append(xx + bw / 2)
            o.append(f'<path d="M{xx:.1f} {H - B - h + 12:.1f}l{bw:.1f} -5v4l-{bw:.1f} 5z" fill="#fff"/>')
    if clipped:
        within = float(minutes[~side].sum()) * 60
        o.append(f'<text x="{sum(clipped) / len(clipped):.1f}" y="16" text-anchor="middle" fill="#40505f">'
                 f'{_dur(within)} within ±5° (bars cut)</text>')
    for v in (-20, -10, -5, 0, 5, 10, 20):
        xx = L + (v + 20) * bw
        o.append(f'<text x="{xx:.1f}" y="{H - B + 14}" text-anchor="middle">{v:+d}°</text>' if v else
                 f'<text x="{xx:.1f}" y="{H - B + 14}" text-anchor="middle">0°</text>')
    o.append(f'<text x="{L}" y="{H - 2}" fill="{LEFT}">◀ left</text>'
             f'<text x="{W - 10}" y="{H - 2}" text-anchor="end" fill="{RIGHT}">right ▶</text>'
             f'<text x="{L - 30}" y="12">minutes</text></svg>')
    return "".join(o)


def _hourly(s: DaySummary) -> str:
    W, H, L, B = 520.0, 250.0, 40.0, 30.0
    hours = list(s.hourly)
    if not hours:
        return f'<svg viewBox="0 0 {W:.0f} {H:.0f}" width="{W:.0f}" height="{H:.0f}" class="hourly"></svg>'
    lo, hi = hours[0].hour, hours[-1].hour
    n = hi - lo + 1
    bw = (W - L - 10) / n
    by = {h.hour: h for h in hours}
    o = [f'<svg viewBox="0 0 {W:.0f} {H:.0f}" width="{W:.0f}" height="{H:.0f}" role="img" '
         f'aria-label="activity per hour" class="hourly">']
    ph = H - B - 40
    for v in (0, 15, 30, 45, 60):
        yy = H - B - ph * v / 60
        o.append(f'<line x1="{L}" x2="{W - 10}" y1="{yy:.1f}" y2="{yy:.1f}" stroke="#eef1f5"/>'
                 f'<text x="{L - 5}" y="{yy + 4:.1f}" text-anchor="end">{v}</text>')
    for k in range(n):
        h = by.get(lo + k)
        xx = L + k * bw
        if h is not None:
            y = H - B
            for val, col, name in ((h.sedentary_s, SIT, "sitting/still"), (h.walking_s, WALK, "walking"),
                                   (h.active_s, ACTIVE, "active")):
                hh = min(val / 3600.0, 1.0) * ph
                if hh > 0:
                    o.append(f'<rect x="{xx + 3:.1f}" y="{y - hh:.1f}" width="{bw - 6:.1f}" height="{hh:.1f}" '
                             f'fill="{col}"><title>{lo + k:02d}:00 {name} {_dur(val)}</title></rect>')
                    y -= hh
            if h.steps:
                o.append(f'<text x="{xx + bw / 2:.1f}" y="{y - 4:.1f}" text-anchor="middle" font-size="9">'
                         f'{h.steps:,}</text>')
        o.append(f'<text x="{xx + bw / 2:.1f}" y="{H - B + 14}" text-anchor="middle">{lo + k:02d}</text>')
    o.append(f'<text x="{L - 30}" y="12">minutes per hour; the numbers are steps</text></svg>')
    return "".join(o)


def _card(k: str, v: str, d: str) -> str:
    return f'<div class="card"><div class="k">{escape(k)}</div><div class="v">{escape(v)}</div>' \
           f'<div class="d">{escape(d)}</div></div>'


def render_day(s: DaySummary, ev: DayEvents, tz: tzinfo | None = None, title: str | None = None) -> str:
    """The whole report as one HTML string."""
    day = datetime.fromisoformat(s.date).strftime("%A, %d %B %Y") if s.date else "no date"
    title = title or f"Posture on {day}"
    c = s.comparison
    side = {"right": "leaning right", "left": "leaning left", "balanced": "balanced", None: "not enough leaning"}
    cards = "".join([
        _card("worn", _dur(s.wear_s), _delta_text(c, "wear_s", " min", 1 / 60)),
        _card("asymmetry", "–" if s.asymmetry_index is None else f"{s.asymmetry_index:+.2f}",
              side[s.dominant_side]),
        _card("sitting", _dur(s.sedentary_s), _delta_text(c, "sedentary_s", " min", 1 / 60)),
        _card("breaks", f"{s.breaks_taken}", _delta_text(c, "breaks_taken", "", 1.0, 1)),
        _card("sustained lean", _dur(s.sustained_lean_s), _delta_text(c, "sustained_lean_s", " min", 1 / 60)),
        _card("steps", f"{s.steps:,}", _delta_text(c, "steps", "")),
    ])
    words = "".join(f"<li>{escape(w)}</li>" for w in plain_words(s, tz))
    aggs = ev.aggregates
    legend = (f'<div class="legend"><span><i style="background:#33475b"></i>lean (mean of 10 s)</span>'
              f'<span><i style="background:#6b4fa3"></i>forward bend</span>'
              f'<span><i style="background:#eaf5ee"></i>neutral ±5°</span>'
              f'<span><i style="background:{RIGHT}"></i><i style="background:{LEFT}"></i>sustained lean</span>'
              f'<span><i style="background:#8a5cd1"></i>slouch</span>'
              f'<span><i style="background:{WALK};opacity:.4"></i>walk</span>'
              f'<span><i style="background:{SIT}"></i>still</span><span><i style="background:{ACTIVE}"></i>active</span>'
              f'<span><i style="background:{BREAK}"></i>break</span><span><i style="background:{ALERT}"></i>sitting '
              f'reminder ▲</span><span><i style="background:{RIGHT}"></i><i style="background:{LEFT}"></i>lean '
              'nudge ▲</span></div>')
    body = [f"<main><h1>{escape(title)}</h1>",
            f'<p class="sub">device {escape(s.device_id or "–")} · worn {escape(s.clock(s.first_s, tz) or "–")}–'
            f'{escape(s.clock(s.last_s, tz) or "–")}</p>',
            f'<div class="cards">{cards}</div>',
            f'<section class="panel"><h2>The day in plain words</h2><ul class="words">{words}</ul></section>']
    if aggs:
        body.append(f'<section class="panel"><h2>Lean and forward bend through the day</h2>{_timeline(aggs, ev, s, tz)}'
                    f"{legend}</section>")
        body.append(f'<div class="row"><section class="panel"><h2>Left or right?</h2>{_histogram(aggs)}'
                    f'<div class="legend"><span><i style="background:{LEFT}"></i>left ≥ 5°</span>'
                    f'<span><i style="background:{NEUTRAL}"></i>neutral</span>'
                    f'<span><i style="background:{RIGHT}"></i>right ≥ 5°</span></div></section>'
                    f'<section class="panel"><h2>Activity per hour</h2>{_hourly(s)}'
                    f'<div class="legend"><span><i style="background:{SIT}"></i>sitting or still</span>'
                    f'<span><i style="background:{WALK}"></i>walking</span>'
                    f'<span><i style="background:{ACTIVE}"></i>active</span></div></section></div>')
    body.append('<p class="foot">Asymmetry index = (R − L) / (R + L), where R and L are the still time spent leaning '
                "5° or more to the right and to the left: −1 all left, 0 balanced, +1 all right. Angles are relative "
                "to your calibrated neutral posture. Generated by posture-monitor.</p></main>")
    return (f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" '
            f'content="width=device-width,initial-scale=1"><title>{escape(title)}</title><style>{_CSS}</style>'
            f"</head><body>{''.join(body)}</body></html>\n")


__all__ = ["plain_words", "render_day"]
