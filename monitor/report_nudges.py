"""The day report's nudges block: what was sent, what the wearer answered, and what was held back.

Self-contained HTML (its own small style, no script) that `report_html.render_day` places as one panel,
so the report's layout can change around it. Numbers come from the DaySummary: the latest response of each
alert (acknowledged, snoozed, skipped, ignored, still pending) and the holds by reason (monitor.held).
"""

from __future__ import annotations

from html import escape

from monitor.summary import RESPONSES, DaySummary

_STYLE = ("<style>.nudges table{border-collapse:collapse;font-size:13px;margin:4px 0 8px}"
          ".nudges th,.nudges td{padding:3px 10px;text-align:right}.nudges th:first-child,"
          ".nudges td:first-child{text-align:left}.nudges thead th{color:#5b6b7d;font-weight:600}"
          ".nudges tbody tr{border-top:1px solid #eef1f5}.nudges .held{color:#5b6b7d;font-size:13px}</style>")


def nudges_panel(s: DaySummary) -> str:
    """One `<section class="panel nudges">`: a row per alert kind with its responses, and the holds."""
    head = "".join(f"<th>{escape(r)}</th>" for r in ("sent", *RESPONSES))
    rows = []
    for a in s.alerts:
        cells = "".join(f"<td>{a.responses.get(r, 0)}</td>" for r in RESPONSES)
        rows.append(f"<tr><td>{escape(a.alert_kind.replace('_', ' '))}</td><td>{a.count}</td>{cells}</tr>")
    if rows:
        total = "".join(f"<td>{sum(a.responses.get(r, 0) for a in s.alerts)}</td>" for r in RESPONSES)
        rows.append(f"<tr><td><b>all</b></td><td><b>{s.alerts_total}</b></td>{total}</tr>")
        table = f"<table><thead><tr><th>nudge</th>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"
    else:
        table = "<p>No nudges were sent.</p>"
    if s.held:
        why = ", ".join(f"{n} {escape(r)}" for r, n in s.held.items())
        held = f'<p class="held">{s.held_total} held back: {why}.</p>'
    else:
        held = '<p class="held">None held back.</p>'
    return f'{_STYLE}<section class="panel nudges" id="nudges"><h2>Nudges and your answers</h2>{table}{held}</section>'


__all__ = ["nudges_panel"]
