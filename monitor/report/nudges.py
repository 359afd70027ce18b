"""The day report's nudges block: what was sent, what the wearer answered, and what was held back.

Self-contained HTML (its own small style, no script) that `report_html.render_day` places as one panel,
so the report's layout can change around it. Numbers come from the DaySummary: the latest response of each
alert (acknowledged, snoozed, skipped, ignored, still pending) and the holds by reason (monitor.pipeline.held).
"""

from __future__ import annotations

from html import escape

from monitor.report.summary import RESPONSES, DaySummary

_STYLE = ("<style>.nudges table{border-collapse:collapse;font-size:13px;margin:4px 0 8px;max-width:100%}"
          ".nudges th,.nudges td{padding:3px 10px;text-align:right}.nudges th:first-child,"
          ".nudges td:first-child{text-align:left}.nudges thead th{color:var(--muted,#5b6b7d);font-weight:600}"
          ".nudges tbody tr{border-top:1px solid var(--track,#eef1f5)}"
          ".nudges .held{color:var(--muted,#5b6b7d);font-size:13px}"
          # a phone: each kind is a line of "label value" pairs instead of a 7-column table
          "@media (max-width:720px){.nudges thead{display:none}.nudges table,.nudges tbody{display:block}"
          ".nudges tr{display:flex;flex-wrap:wrap;gap:0 12px;padding:5px 0}.nudges td{padding:0}"
          ".nudges td:first-child{flex:1 0 100%;font-weight:600}"
          ".nudges td[data-k]::before{content:attr(data-k) ' ';color:var(--muted,#5b6b7d)}}"
          "</style>")

#: column headings: the wearer's words ("done" is what `posture done` and the buttons say)
_HEADING = {"acknowledged": "done", "pending": "open"}


def _td(response: str) -> str:
    """An opening <td> that names its column (shown before the number on a phone)."""
    return f'<td data-k="{escape(_HEADING.get(response, response))}">'


def nudges_panel(s: DaySummary) -> str:
    """One `<section class="panel nudges">`: a row per alert kind with its responses, and the holds."""
    head = "".join(f"<th>{escape(_HEADING.get(r, r))}</th>" for r in ("sent", *RESPONSES))
    rows = []
    for a in s.alerts:
        cells = "".join(f"{_td(r)}{a.responses.get(r, 0)}</td>" for r in RESPONSES)
        rows.append(f"<tr><td>{escape(a.alert_kind.replace('_', ' '))}</td>{_td('sent')}{a.count}</td>{cells}</tr>")
    if rows:
        total = "".join(f"{_td(r)}{sum(a.responses.get(r, 0) for a in s.alerts)}</td>" for r in RESPONSES)
        rows.append(f"<tr><td><b>all</b></td>{_td('sent')}<b>{s.alerts_total}</b></td>{total}</tr>")
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
