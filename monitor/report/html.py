"""The HTML day report: one self-contained file (inline CSS and SVG, no scripts, no network fetches).

    html = render_day(summary, events)          # a DaySummary and the DayEvents it came from

It leads with a headline (upright share of still time against the goal, the streak of days at goal when
the summary carries a comparison), then cards with the 7-day deltas coloured by whether the change is good,
the day in plain words, a timeline of lean and flexion with the activity strip, lean and slouch episodes,
walks, breaks and nudges marked, a left/right lean histogram and hourly activity bars (monitor.report.charts).

Layout: one column of cards that wrap and charts stacked below 720 px (a phone at 390 px has no sideways
scrolling and chart text of at least 10 CSS px: tests/test_report_html.py measures both in Chromium, and at
800 and 1280 px), charts stacked and the timeline's labels larger up to 1000 px (a tablet), the desktop
layout above; dark colours under `prefers-color-scheme: dark`; print rules for paper.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, tzinfo
from html import escape

from monitor.report.charts import (
    ACTIVE,
    ALERT,
    BREAK,
    FLEX_LINE,
    LEAN_LINE,
    LEAN_NUDGE,
    LEFT,
    NEUTRAL,
    RIGHT,
    SIT,
    SLOUCH,
    WALK,
    _dur,
    _histogram,
    _hourly,
    _timeline,
)
from monitor.report.exercise import advice_lines
from monitor.report.nudges import nudges_panel
from monitor.report.summary import DayEvents, DaySummary

_CSS = """
:root{color-scheme:light dark;--bg:#f4f6f9;--fg:#1d2733;--muted:#5b6b7d;--card:#fff;--good:#1f8a4c;
--bad:#c4302b;--track:#e3e8ef;--shadow:0 1px 3px rgba(20,40,70,.08)}
*{box-sizing:border-box} body{margin:0;background:var(--bg);color:var(--fg);font:15px/1.5 system-ui,
-apple-system,"Segoe UI",Roboto,Helvetica,Arial,sans-serif} main{max-width:1120px;margin:0 auto;
padding:28px 28px 48px} h1{font-size:26px;line-height:1.25;margin:0 0 4px} h2{font-size:18px;margin:0 0 10px}
.sub{color:var(--muted);margin:0 0 18px}
.hero{display:flex;flex-wrap:wrap;align-items:center;gap:6px 28px;background:var(--card);border-radius:12px;
padding:18px 22px;margin-bottom:14px;box-shadow:var(--shadow)}
.hero .big{font-size:44px;font-weight:700;line-height:1.1} .hero .what{flex:1 1 260px;min-width:0}
.hero .what b{font-size:18px} .hero .what p{margin:2px 0;color:var(--muted)}
.meter{position:relative;height:10px;border-radius:5px;background:var(--track);margin:8px 0 4px;
max-width:520px} .meter span{position:absolute;left:0;top:0;bottom:0;border-radius:5px;background:var(--good)}
.meter.below span{background:#d9822b} .meter i{position:absolute;top:-4px;bottom:-4px;width:2px;
background:var(--fg)}
.cards{display:grid;grid-template-columns:repeat(auto-fit,minmax(150px,1fr));gap:12px;margin-bottom:18px}
.card{background:var(--card);border-radius:12px;padding:14px 16px;box-shadow:var(--shadow);min-width:0}
.card .k{color:var(--muted);font-size:12px;text-transform:uppercase;letter-spacing:.04em}
.card .v{font-size:22px;font-weight:650;margin:2px 0;white-space:nowrap}
.card .d,.hero .d{font-size:12.5px;color:var(--muted)} .good{color:var(--good)!important}
.bad{color:var(--bad)!important}
.panel{background:var(--card);border-radius:12px;padding:18px 20px;margin-bottom:18px;box-shadow:var(--shadow);
min-width:0} .row{display:grid;grid-template-columns:1fr 1fr;gap:18px} .row .panel{margin-bottom:0}
ul.words{margin:0;padding-left:20px} ul.words li{margin:4px 0}
.legend{display:flex;flex-wrap:wrap;gap:6px 14px;font-size:12.5px;color:var(--muted);margin-top:6px}
.legend i{display:inline-block;width:12px;height:12px;border-radius:3px;margin-right:5px;vertical-align:-1px}
.legend b{font-weight:400;margin-right:4px}
svg{display:block;width:100%;height:auto} svg text{font:11px system-ui,sans-serif;fill:#5b6b7d}
svg text.strong{fill:#40505f} .timeline.narrow text{font-size:12px} .timeline.narrow{display:none}
.foot{color:var(--muted);font-size:12.5px;margin-top:18px}
@media (max-width:720px){main{padding:16px 12px 32px} h1{font-size:22px} .hero{padding:14px 16px}
.hero .big{font-size:38px} .cards{grid-template-columns:repeat(auto-fit,minmax(140px,1fr));gap:10px}
.card{padding:12px} .card .v{font-size:20px;white-space:normal} .panel{padding:14px 12px}
.row{grid-template-columns:1fr;gap:18px}
.timeline.wide{display:none} .timeline.narrow{display:block}
.histogram text,.hourly text{font-size:17px}}
@media (min-width:721px) and (max-width:1000px){.row{grid-template-columns:1fr}
.timeline.wide text{font-size:16px}}
@media (prefers-color-scheme:dark){:root{--bg:#0f141a;--fg:#e3e9f0;--muted:#9fb0c2;--card:#19212b;
--good:#4cc38a;--bad:#ff7a72;--track:#2b3644;--shadow:none} svg text{fill:#9fb0c2} svg text.strong{fill:#d5dee8}
.grid{stroke:#243040} .guide{stroke:#4a5a6c} .band{fill:#1d3a2a} .notch{fill:#19212b}
.lean-line{stroke:#c9d4e0} .flexion-line{stroke:#b49cf0} .nudge-lean{fill:#e3e9f0}
.legend b.ink{color:#e3e9f0!important}
.legend i[style*="#eaf5ee"]{background:#1d3a2a!important} .legend i[style*="#33475b"]{background:#c9d4e0!important}}
@media print{:root{--bg:#fff;--card:#fff;--shadow:none} main{max-width:none;padding:0} .panel,.hero,.card{
border:1px solid #d5dbe3;break-inside:avoid} .timeline.wide{display:block} .timeline.narrow{display:none}
.row{grid-template-columns:1fr 1fr}}
"""


def _n(count: int, word: str, plural: str = "") -> str:
    """"1 walk", "3 walks"."""
    return f"{count} {word}" if count == 1 else f"{count} {plural or word + 's'}"


def device_name(device_id: str) -> str:
    """What the report calls a device: "sensor 0001" from the last four characters of its id (the name
    Home Assistant shows is "Posture sensor" and the same four)."""
    return f"sensor {device_id[-4:]}" if device_id else "–"


def _legend(items: Sequence[tuple[str, str]]) -> str:
    """(colours separated by spaces, label) pairs; a colour "x/0.4" has that opacity, "▲x" / "▼x" is a
    mark drawn in that colour (the timeline's nudges)."""
    out = []
    for colours, label in items:
        sw = ""
        for c in colours.split():
            if c[0] in "▲▼":
                ink = ' class="ink"' if c[1:] == LEAN_NUDGE else ""
                sw += f'<b style="color:{c[1:]}"{ink}>{c[0]}</b>'
                continue
            colour, _, alpha = c.partition("/")
            sw += f'<i style="background:{colour}' + (f";opacity:{alpha}" if alpha else "") + '"></i>'
        out.append(f"<span>{sw}{escape(label)}</span>")
    return f'<div class="legend">{"".join(out)}</div>'


def _delta(c: dict | None, key: str, unit: str, scale: float = 1.0, nd: int = 0,
           better: int = 0) -> tuple[str, str]:
    """The change against the 7-day average as (text, CSS class): "good" or "bad" when `better` says
    which way is good (+1 more is good, -1 less is good, 0 neither), "" when it is the same or neutral.
    `unit` " min" shows durations as _dur does ("1 h 05 min"); " points" is singular for one."""
    if not c or c.get(key, {}).get("delta") is None:
        return "no earlier days to compare", ""
    d = c[key]["delta"] * scale
    n = f"{c['days']['count']:.0f}-day"
    if abs(d) < 10 ** -nd / 2:
        return f"same as your {n} average", ""
    cls = "" if not better else ("good" if d * better > 0 else "bad")
    size = f"{abs(d):,.{nd}f}"
    if unit == " min":
        amount = _dur(abs(d) * 60.0)
    else:
        amount = size + (" point" if unit == " points" and size == "1" else unit)
    return f"{'▲' if d > 0 else '▼'} {amount} vs {n} avg", cls


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
        med = round(s.flexion_percentiles_deg[1])
        how = (f"bent forward by {med}° at the median" if med > 0 else
               f"tilted back by {-med}° at the median" if med < 0 else "upright front to back at the median")
        out.append(f"Your trunk was {how}; {_dur(fb[1])} at 20–60° and {_dur(fb[2])} beyond 60°, with "
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


def _card(k: str, v: str, d: tuple[str, str] | str) -> str:
    text, cls = (d, "") if isinstance(d, str) else d
    return (f'<div class="card"><div class="k">{escape(k)}</div><div class="v">{escape(v)}</div>'
            f'<div class="d {cls}">{escape(text)}</div></div>')


def _headline(s: DaySummary) -> str:
    """Upright share of still time against the goal, with a meter, the 7-day change and the streak."""
    share, goal = s.upright_share, s.params.upright_goal
    if share is None:
        return ""
    met = share >= goal
    verdict = "goal met" if met else f"{100 * (goal - share):.0f} points below the goal"
    d_text, d_cls = _delta(s.comparison, "upright_share", " points", 100.0, 0, +1)
    streak = (s.comparison or {}).get("streak", {}).get("upright_days")
    extra = [f'<span class="d {d_cls}">{escape(d_text)}</span>'] if s.comparison else []
    if streak:
        extra.append(f'<span class="d">{_n(int(streak), "worn day")} in a row at the goal</span>')
    return (f'<section class="hero"><div class="big">{100 * share:.0f} %</div><div class="what">'
            f"<b>upright</b> — within {s.params.neutral_deg:.0f}° of neutral for "
            f"{_dur(s.lean_bands_s['neutral'])} of {_dur(s.posture_s)} sitting or standing still"
            f'<div class="meter{"" if met else " below"}" title="goal {100 * goal:.0f} %">'
            f'<span style="width:{100 * share:.1f}%"></span><i style="left:{100 * goal:.1f}%"></i></div>'
            f"<p>goal {100 * goal:.0f} %: {verdict}</p><p>{' · '.join(extra)}</p></div></section>")


#: short enough for a card at any width (six across on a desktop, two on a phone)
_CARD_SIDE = {"right": "more right", "left": "more left", "balanced": "balanced", None: "can't tell yet"}
_TIMELINE_LEGEND = [(LEAN_LINE, "lean (mean of 10 s)"), (FLEX_LINE, "forward bend"),
                    ("#eaf5ee", "neutral ±5°"),
                    (f"{RIGHT}/0.4 {LEFT}/0.4", "sustained lean right, left"), (f"{SLOUCH}/0.4", "slouch"),
                    (f"{WALK}/0.3", "walk"), (SIT, "still"), (ACTIVE, "active"), (BREAK, "break"),
                    (f"▲{ALERT}", "sitting reminder"), (f"▲{LEAN_NUDGE} ▼{LEAN_NUDGE}", "lean nudge right, left"),
                    (f"▲{SLOUCH}", "slouch nudge")]


def _exercise_panel(s: DaySummary) -> str:
    """Rowing and foam rolling, today and this week, against the article's advice (monitor.report.exercise)."""
    items = "".join(f"<li>{escape(w)}</li>" for w in advice_lines(s.exercise, s.week))
    return ('<section class="panel" id="exercise"><h2>Rowing and foam roller</h2>'
            f'<ul class="words">{items}</ul></section>')


def render_day(s: DaySummary, ev: DayEvents, tz: tzinfo | None = None, title: str | None = None) -> str:
    """The whole report as one HTML string."""
    day = datetime.fromisoformat(s.date).strftime("%A, %d %B %Y") if s.date else "no date"
    title = title or f"Posture on {day}"
    c = s.comparison
    b = s.lean_bands_s
    left, right = b["left_mild"] + b["left_strong"], b["right_mild"] + b["right_strong"]
    cards = "".join([
        _card("worn", _dur(s.wear_s), _delta(c, "wear_s", " min", 1 / 60)),
        _card("sitting", _dur(s.sedentary_s), _delta(c, "sedentary_s", " min", 1 / 60, better=-1)),
        _card("breaks", f"{s.breaks_taken}", _delta(c, "breaks_taken", "", 1.0, 1, better=+1)),
        _card("sustained lean", _dur(s.sustained_lean_s),
              _delta(c, "sustained_lean_s", " min", 1 / 60, better=-1)),
        _card("left / right", _CARD_SIDE[s.dominant_side], f"left {_dur(left)} · right {_dur(right)}"),
        _card("steps", f"{s.steps:,}", _delta(c, "steps", "", better=+1)),
    ])
    words = "".join(f"<li>{escape(w)}</li>" for w in plain_words(s, tz))
    aggs = ev.aggregates
    worn = f"{s.clock(s.first_s, tz) or '–'}–{s.clock(s.last_s, tz) or '–'}"
    dev = escape(s.device_id or "")
    body = [f"<main><h1>{escape(title)}</h1>",
            f'<p class="sub"><span title="{dev}">{escape(device_name(s.device_id))}</span> · worn '
            f"{escape(worn)}</p>", _headline(s),
            f'<div class="cards">{cards}</div>',
            f'<section class="panel"><h2>The day in plain words</h2><ul class="words">{words}</ul></section>',
            _exercise_panel(s)]
    body.append(nudges_panel(s))  # monitor/report/nudges.py: sent, answered, held back
    if aggs:
        body.append('<section class="panel"><h2>Lean and forward bend through the day</h2>'
                    f"{_timeline(aggs, ev, s, tz)}{_timeline(aggs, ev, s, tz, narrow=True)}"
                    f"{_legend(_TIMELINE_LEGEND)}</section>")
        body.append('<div class="row"><section class="panel"><h2>Left or right?</h2>'
                    + _histogram(aggs)
                    + _legend([(LEFT, "left ≥ 5°"), (NEUTRAL, "neutral"), (RIGHT, "right ≥ 5°")])
                    + '</section><section class="panel"><h2>Activity per hour</h2>' + _hourly(s)
                    + _legend([(SIT, "sitting or still"), (WALK, "walking"), (ACTIVE, "active")])
                    + "</section></div>")
    body.append(f'<p class="foot">Upright: within {s.params.neutral_deg:.0f}° of neutral lean while sitting or '
                f"standing still; the goal is {100 * s.params.upright_goal:.0f} % of that time. "
                "Asymmetry index = (R − L) / (R + L), where R and L are the still time spent "
                "leaning 5° or more to the right and to the left: −1 all left, 0 balanced, +1 all right. "
                "Angles are relative to your calibrated neutral posture. Generated by posture-monitor."
                "</p></main>")
    return ('<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" '
            'content="width=device-width,initial-scale=1"><meta name="color-scheme" content="light dark">'
            f"<title>{escape(title)}</title><style>{_CSS}</style>"
            f"</head><body>{''.join(body)}</body></html>\n")


__all__ = ["device_name", "plain_words", "render_day"]
