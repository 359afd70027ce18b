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
from monitor.exercise_summary import advice_lines
from monitor.summary import DayEvents, DaySummary

LEFT, RIGHT, NEUTRAL = "#2f6fde", "#e8702a", "#9aa7b8"
SIT, WALK, ACTIVE, ALERT, BREAK = "#cfd8e3", "#2fa866", "#17a2a2", "#d62f3a", "#2f54c9"
SLOUCH, LEAN_LINE, FLEX_LINE = "#8a5cd1", "#33475b", "#6b4fa3"
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
.panel{background:#fff;border-radius:12px;padding:18px 20px;margin-bottom:18px;
box-shadow:0 1px 3px rgba(20,40,70,.08)}
.row{display:grid;grid-template-columns:1fr 1fr;gap:18px} .row .panel{margin-bottom:0}
ul.words{margin:0;padding-left:20px} ul.words li{margin:4px 0}
.legend{display:flex;flex-wrap:wrap;gap:14px;font-size:12.5px;color:#40505f;margin-top:6px}
.legend i{display:inline-block;width:12px;height:12px;border-radius:3px;margin-right:5px;vertical-align:-1px}
svg{display:block;width:100%;height:auto} svg text{font:11px system-ui,sans-serif;fill:#5b6b7d}
.foot{color:#6b7a8b;font-size:12.5px;margin-top:18px}
"""


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


def _n(count: int, word: str, plural: str = "") -> str:
    """"1 walk", "3 walks"."""
    return f"{count} {word}" if count == 1 else f"{count} {plural or word + 's'}"


def _clock(t: float, tz: tzinfo | None) -> str:
    return datetime.fromtimestamp(t, tz).strftime("%H:%M")


def _rect(x: float, y: float, w: float, h: float, fill: str, title: str = "", extra: str = "") -> str:
    t = f"<title>{escape(title)}</title></rect>" if title else "</rect>"
    return f'<rect x="{x:.1f}" y="{y:.1f}" width="{w:.1f}" height="{h:.1f}" fill="{fill}"{extra}>{t}'


def _text(x: float, y: float, text: str, anchor: str = "start", extra: str = "") -> str:
    return f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}"{extra}>{escape(text)}</text>'


def _hline(x1: float, x2: float, y: float, stroke: str = "#eef1f5", dash: str = "") -> str:
    d = f' stroke-dasharray="{dash}"' if dash else ""
    return f'<line x1="{x1:.1f}" x2="{x2:.1f}" y1="{y:.1f}" y2="{y:.1f}" stroke="{stroke}"{d}/>'


def _svg(w: float, h: float, cls: str, label: str) -> str:
    return (f'<svg viewBox="0 0 {w:.0f} {h:.0f}" width="{w:.0f}" height="{h:.0f}" role="img" '
            f'aria-label="{escape(label)}" class="{cls}">')


def _legend(items: Sequence[tuple[str, str]]) -> str:
    """(colours separated by spaces, label) pairs; a colour "x/0.4" has that opacity."""
    out = []
    for colours, label in items:
        sw = ""
        for c in colours.split():
            colour, _, alpha = c.partition("/")
            sw += f'<i style="background:{colour}' + (f";opacity:{alpha}" if alpha else "") + '"></i>'

        out.append(f"<span>{sw}{escape(label)}</span>")
    return f'<div class="legend">{"".join(out)}</div>'


def _delta_text(c: dict | None, key: str, unit: str, scale: float = 1.0, nd: int = 0) -> str:
    if not c or c.get(key, {}).get("delta") is None:
        return "no earlier days to compare"
    d = c[key]["delta"] * scale
    n = f"{c['days']['count']:.0f}-day"
    if abs(d) < 10 ** -nd / 2:
        return f"same as your {n} average"
    return f"{'▲' if d > 0 else '▼'} {abs(d):.{nd}f}{unit} vs {n} avg"


_SIDE_WORDS = {"right": "your right side dominated", "left": "your left side dominated",
               "balanced": "your leaning was balanced between the sides",
               None: "there was too little leaning to compare the sides"}


def plain_words(s: DaySummary, tz: tzinfo | None = None) -> list[str]:
    """The day told in sentences."""
    if not s.wear_s:
        return ["No wear was recorded on this day."]
    b = s.lean_bands_s
    left, right = b["left_mild"] + b["left_strong"], b["right_mild"] + b["right_strong"]
    out = [f"You wore the sensor for {_dur(s.wear_s)}, from {s.clock(s.first_s, tz)} to "
           f"{s.clock(s.last_s, tz)}."]
    upright = 100 * b["neutral"] / s.posture_s if s.posture_s else 0.0
    idx = "" if s.asymmetry_index is None else f" (asymmetry {s.asymmetry_index:+.2f})"
    out.append(f"While sitting or standing still you were upright, within 5° of neutral, {upright:.0f} % of "
               f"the time. You leaned to the right for {_dur(right)} and to the left for {_dur(left)}: "
               f"{_SIDE_WORDS[s.dominant_side]}{idx}.")
    lo = s.longest_lean
    if lo is None:
        out.append("You never held a lean of 10° or more for a minute.")
    else:
        n = _n(s.sustained_lean_count, "sustained lean")
        out.append(f"Your longest sustained lean was {_dur(lo.end_s - lo.start_s)} to the {lo.side} at "
                   f"{s.clock(lo.start_s, tz)}, up to {lo.peak_deg:.0f}°; {n} took "
                   f"{_dur(s.sustained_lean_s)} in all.")
    if s.flexion_percentiles_deg:
        fb = list(s.flexion_bands_s.values())
        out.append(f"Your trunk was bent forward by {s.flexion_percentiles_deg[1]:.0f}° at the median; "
                   f"{_dur(fb[1])} at 20–60° and {_dur(fb[2])} beyond 60°, with "
                   f"{_n(s.slouch_count, 'slouch', 'slouches')} ({_dur(s.slouch_s)}).")
    out.append(f"You sat for {_dur(s.sedentary_s)}, with {s.prolonged_bouts} unbroken "
               f"{'stretch' if s.prolonged_bouts == 1 else 'stretches'} of more than 30 minutes; the longest "
               f"lasted {_dur(s.longest_bout_s)}.")
    out.append(f"You took {_n(s.breaks_taken, 'break')}: {s.breaks_taken - s.breaks_prompted} on your own "
               f"and {s.breaks_prompted} after a reminder ({_n(s.sedentary_reminders, 'sitting reminder')} "
               "in all).")
    if s.alerts:
        parts = []
        for a in s.alerts:
            r = ", ".join(f"{v} {k}" for k, v in a.responses.items() if v)
            parts.append(f"{a.count} {a.alert_kind.replace('_', ' ')}" + (f" ({r})" if r else ""))
        out.append("Nudges: " + "; ".join(parts) + ".")
    out.append(f"You walked {s.steps:,} steps in {_n(s.walks, 'walk')} ({_dur(s.walking_s)}).")
    if s.shifts_per_sitting_hour is not None:
        out.append(f"You shifted your posture {s.shifts_per_sitting_hour:.0f} times per sitting hour — "
                   "moving while you sit is good.")
    m, e = s.stretch_morning, s.stretch_evening
    out.append(f"Morning stretch: {'done at ' + str(s.clock(m.start_s, tz)) if m else 'not done'}. "
               f"Evening stretch: {'done at ' + str(s.clock(e.start_s, tz)) if e else 'not done'}.")
    return out


def _still(a: Aggregate) -> bool:
    return (a.activity in (Activity.SEDENTARY, Activity.UNKNOWN) and math.isfinite(a.lean_mean_deg)
            and math.isfinite(a.flexion_mean_deg))


def _timeline(aggs: Sequence[Aggregate], ev: DayEvents, s: DaySummary, tz: tzinfo | None) -> str:
    off = s.wall_offset_s
    h0 = math.floor((aggs[0].start_s + off) / 3600.0) * 3600.0
    h1 = max(math.ceil((aggs[-1].start_s + aggs[-1].duration_s + off) / 3600.0) * 3600.0, h0 + 3600.0)
    W, L, R, H = 1060.0, 58.0, 22.0, 418.0
    lean_y, lean_h, flex_y, flex_h, strip_y, mark_y = 18.0, 170.0, 214.0, 120.0, 350.0, 376.0

    def x(tt: float) -> float:
        return L + (tt + off - h0) / (h1 - h0) * (W - L - R)

    def span(t0: float, t1: float, least: float = 1.0) -> tuple[float, float]:
        return x(t0), max(least, x(t1) - x(t0))

    def ly(v: float) -> float:
        return lean_y + lean_h / 2 - max(-20.0, min(20.0, v)) / 20.0 * (lean_h / 2)

    def fy(v: float) -> float:
        return flex_y + flex_h - (max(-10.0, min(70.0, v)) + 10.0) / 80.0 * flex_h

    o = [_svg(W, H, "timeline", "lean and flexion through the day")]
    for w in ev.walks:  # walks: green spans behind both panels
        x0, w_ = span(w.start_s, w.end_s)
        o.append(_rect(x0, lean_y, w_, flex_y + flex_h - lean_y, WALK, f"walk, {w.steps} steps",
                       ' opacity=".12"'))
    o.append(_rect(L, ly(5), W - L - R, ly(-5) - ly(5), "#eaf5ee"))
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
    for pts, colour, cls in ((lean_pts, LEAN_LINE, "lean-line"), (flex_pts, FLEX_LINE, "flexion-line")):
        o.append(f'<path d="{"".join(pts)}" fill="none" stroke="{colour}" stroke-width="1.2" class="{cls}"/>')
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
                       + (" after a reminder" if b.prompted else ""), ' rx="3"'))
    for al in ev.alerts:
        col = {"lean": RIGHT if al.side == "right" else LEFT, "flexion": SLOUCH}.get(al.alert_kind, ALERT)
        tip = escape(f"{al.alert_kind} alert {_clock(al.t_s + off, tz)}: {al.text}")
        o.append(f'<path d="M{x(al.t_s):.1f} {mark_y + 10}l-4.5 8h9z" fill="{col}">'
                 f"<title>{tip}</title></path>")
    hh = h0
    step = 3600.0 if h1 - h0 <= 14 * 3600 else 7200.0
    while hh <= h1 + 1:
        xx = L + (hh - h0) / (h1 - h0) * (W - L - R)
        o.append(f'<line x1="{xx:.1f}" x2="{xx:.1f}" y1="{lean_y}" y2="{strip_y + 14}" stroke="#eef1f5"/>'
                 + _text(xx, H - 4, _clock(hh, tz), "middle"))
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
    W, H, L, B = 520.0, 250.0, 40.0, 30.0
    bw = (W - L - 10) / 40
    ph = H - B - 20
    o = [_svg(W, H, "histogram", "lean histogram")]
    for k in range(5):
        yy = H - B - ph * k / 4
        o.append(_hline(L, W - 10, yy) + _text(L - 5, yy + 4, f"{cap * k / 4:.0f}", "end"))
    clipped = []
    for i, m in enumerate(minutes):
        c = edges[i] + 0.5
        h = min(m, cap) / cap * ph
        xx = L + i * bw
        o.append(_rect(xx + 1, H - B - h, bw - 2, h, NEUTRAL if abs(c) < 5 else (RIGHT if c > 0 else LEFT),
                       f"{edges[i]:+.0f}° to {edges[i + 1]:+.0f}°: {_dur(m * 60)}", ' rx="2"'))
        if m > cap:  # cut: a white notch across the bar
            clipped.append(xx + bw / 2)
            o.append(f'<path d="M{xx:.1f} {H - B - h + 12:.1f}l{bw:.1f} -5v4l-{bw:.1f} 5z" fill="#fff"/>')
    if clipped:
        within = _dur(float(minutes[~side].sum()) * 60)
        o.append(_text(sum(clipped) / len(clipped), 16, f"{within} within ±5° (bars cut)", "middle",
                       ' fill="#40505f"'))
    o += [_text(L + (v + 20) * bw, H - B + 14, f"{v:+d}°" if v else "0°", "middle")
          for v in (-20, -10, -5, 0, 5, 10, 20)]
    o.append(_text(L, H - 2, "◀ left", extra=f' fill="{LEFT}"')
             + _text(W - 10, H - 2, "right ▶", "end", f' fill="{RIGHT}"') + _text(L - 30, 12, "minutes"))
    o.append("</svg>")
    return "".join(o)


def _hourly(s: DaySummary) -> str:
    W, H, L, B = 520.0, 250.0, 40.0, 30.0
    hours = list(s.hourly)
    if not hours:
        return _svg(W, H, "hourly", "activity per hour") + "</svg>"
    lo, hi = hours[0].hour, hours[-1].hour
    n = hi - lo + 1
    bw = (W - L - 10) / n
    by = {h.hour: h for h in hours}
    ph = H - B - 40
    o = [_svg(W, H, "hourly", "activity per hour")]
    for v in (0, 15, 30, 45, 60):
        yy = H - B - ph * v / 60
        o.append(_hline(L, W - 10, yy) + _text(L - 5, yy + 4, str(v), "end"))
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
            if h.steps:
                o.append(_text(xx + bw / 2, y - 4, f"{h.steps:,}", "middle", ' font-size="9"'))
        o.append(_text(xx + bw / 2, H - B + 14, f"{lo + k:02d}", "middle"))
    o.append(_text(L - 30, 12, "minutes per hour; the numbers are steps") + "</svg>")
    return "".join(o)


def _card(k: str, v: str, d: str) -> str:
    return (f'<div class="card"><div class="k">{escape(k)}</div><div class="v">{escape(v)}</div>'
            f'<div class="d">{escape(d)}</div></div>')


_CARD_SIDE = {"right": "leaning right", "left": "leaning left", "balanced": "balanced",
              None: "not enough leaning"}
_TIMELINE_LEGEND = [(LEAN_LINE, "lean (mean of 10 s)"), (FLEX_LINE, "forward bend"),
                    ("#eaf5ee", "neutral ±5°"),
                    (f"{RIGHT}/0.4 {LEFT}/0.4", "sustained lean"), (f"{SLOUCH}/0.4", "slouch"),
                    (f"{WALK}/0.3", "walk"), (SIT, "still"), (ACTIVE, "active"), (BREAK, "break"),
                    (ALERT, "sitting reminder ▲"), (f"{RIGHT} {LEFT}", "lean nudge ▲")]


def _exercise_panel(s: DaySummary) -> str:
    """Rowing and foam rolling, today and this week, against the article's advice (monitor.exercise_summary)."""
    items = "".join(f"<li>{escape(w)}</li>" for w in advice_lines(s.exercise, s.week))
    return ('<section class="panel" id="exercise"><h2>Rowing and foam roller</h2>'
            f'<ul class="words">{items}</ul></section>')


def render_day(s: DaySummary, ev: DayEvents, tz: tzinfo | None = None, title: str | None = None) -> str:
    """The whole report as one HTML string."""
    day = datetime.fromisoformat(s.date).strftime("%A, %d %B %Y") if s.date else "no date"
    title = title or f"Posture on {day}"
    c = s.comparison
    cards = "".join([
        _card("worn", _dur(s.wear_s), _delta_text(c, "wear_s", " min", 1 / 60)),
        _card("asymmetry", "–" if s.asymmetry_index is None else f"{s.asymmetry_index:+.2f}",
              _CARD_SIDE[s.dominant_side]),
        _card("sitting", _dur(s.sedentary_s), _delta_text(c, "sedentary_s", " min", 1 / 60)),
        _card("breaks", f"{s.breaks_taken}", _delta_text(c, "breaks_taken", "", 1.0, 1)),
        _card("sustained lean", _dur(s.sustained_lean_s), _delta_text(c, "sustained_lean_s", " min", 1 / 60)),
        _card("steps", f"{s.steps:,}", _delta_text(c, "steps", "")),
    ])
    words = "".join(f"<li>{escape(w)}</li>" for w in plain_words(s, tz))
    aggs = ev.aggregates
    worn = f"{s.clock(s.first_s, tz) or '–'}–{s.clock(s.last_s, tz) or '–'}"
    body = [f"<main><h1>{escape(title)}</h1>",
            f'<p class="sub">device {escape(s.device_id or "–")} · worn {escape(worn)}</p>',
            f'<div class="cards">{cards}</div>',
            f'<section class="panel"><h2>The day in plain words</h2><ul class="words">{words}</ul></section>',
            _exercise_panel(s)]
    if aggs:
        body.append('<section class="panel"><h2>Lean and forward bend through the day</h2>'
                    f"{_timeline(aggs, ev, s, tz)}{_legend(_TIMELINE_LEGEND)}</section>")
        body.append('<div class="row"><section class="panel"><h2>Left or right?</h2>'
                    + _histogram(aggs)
                    + _legend([(LEFT, "left ≥ 5°"), (NEUTRAL, "neutral"), (RIGHT, "right ≥ 5°")])
                    + '</section><section class="panel"><h2>Activity per hour</h2>' + _hourly(s)
                    + _legend([(SIT, "sitting or still"), (WALK, "walking"), (ACTIVE, "active")])
                    + "</section></div>")
    body.append('<p class="foot">Asymmetry index = (R − L) / (R + L), where R and L are the still time spent '
                "leaning 5° or more to the right and to the left: −1 all left, 0 balanced, +1 all right. "
                "Angles are relative to your calibrated neutral posture. Generated by posture-monitor."
                "</p></main>")
    return ('<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" '
            f'content="width=device-width,initial-scale=1"><title>{escape(title)}</title>'
            f"<style>{_CSS}</style>"
            f"</head><body>{''.join(body)}</body></html>\n")


__all__ = ["plain_words", "render_day"]
