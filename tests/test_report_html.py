"""The HTML day report: self-contained, and rendered by a real headless Chromium (Debian's `chromium`)."""

from __future__ import annotations

import html
import json
import re
import shutil
import struct
import subprocess
import zlib
from dataclasses import replace
from datetime import UTC
from pathlib import Path

import numpy as np
import pytest

from monitor.report.html import LEFT, RIGHT, WALK, _delta, device_name, plain_words, render_day
from monitor.report.summary import DaySummary, split_events, summarize_day, summarize_events
from monitor.report.trends import compare_days
from tests.sim_day_events import cached_day

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
needs_chromium = pytest.mark.skipif(CHROMIUM is None,
                                    reason="Debian's chromium is not installed (.ci/run installs it)")


def with_history(s: DaySummary) -> DaySummary:
    """The day with a comparison against three earlier days: one that sat less, walked more, took fewer
    breaks and was less upright, and two like today."""
    other = replace(s, sedentary_s=s.sedentary_s * 0.9, steps=s.steps + 2000, breaks_taken=s.breaks_taken - 3,
                    lean_bands_s={**s.lean_bands_s, "neutral": s.lean_bands_s["neutral"] * 0.8})
    return replace(s, comparison=compare_days(s, [s, other, s]))


@pytest.fixture(scope="module")
def report() -> str:
    sd = cached_day()
    ev = split_events(sd.events)
    s = summarize_events(ev, device_id="00c0ffee00000001", wall_offset_s=sd.wall_offset_s, tz=UTC)
    return render_day(with_history(s), ev, tz=UTC)


def chromium(args: list[str], tmp: Path) -> subprocess.CompletedProcess[str]:
    assert CHROMIUM is not None
    cmd = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
           "--disable-component-update", "--disable-sync", "--no-first-run",
           f"--user-data-dir={tmp / 'profile'}", "--window-size=1200,2000", *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120, check=False)


def read_png(path: Path) -> np.ndarray:
    """(H, W, C) uint8 from an 8-bit RGB/RGBA PNG, decoded with zlib and the PNG row filters."""
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat, w = 8, b"", 0
    h = ctype = 0
    while pos < len(data):
        n, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + n]
        if kind == b"IHDR":
            w, h, depth, ctype = struct.unpack(">IIBB", body[:10])
            assert depth == 8 and ctype in (2, 6)
        elif kind == b"IDAT":
            idat += body
        pos += 12 + n
    ch = 3 if ctype == 2 else 4
    raw = zlib.decompress(idat)
    stride = w * ch
    out = np.zeros((h, stride), dtype=np.int32)
    prev = np.zeros(stride, dtype=np.int32)
    for y in range(h):
        f = raw[y * (stride + 1)]
        line = np.frombuffer(raw, np.uint8, stride, y * (stride + 1) + 1).astype(np.int32)
        if f == 0:
            cur = line
        elif f == 2:
            cur = (line + prev) & 0xFF
        else:  # Sub, Average, Paeth depend on the left neighbour: go pixel by pixel
            cur = np.zeros(stride, dtype=np.int32)
            for i in range(stride):
                a = cur[i - ch] if i >= ch else 0
                b = prev[i]
                c = prev[i - ch] if i >= ch else 0
                if f == 1:
                    pred = a
                elif f == 3:
                    pred = (a + b) // 2
                else:
                    p = a + b - c
                    pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                    pred = a if pa <= pb and pa <= pc else (b if pb <= pc else c)
                cur[i] = (line[i] + pred) & 0xFF
        out[y] = cur
        prev = cur
    return out.reshape(h, w, ch)[:, :, :3].astype(np.uint8)


def near(img: np.ndarray, hex_colour: str, tol: int = 12) -> int:
    rgb = np.array([int(hex_colour[i:i + 2], 16) for i in (1, 3, 5)])
    return int((np.abs(img.astype(int) - rgb).max(axis=2) <= tol).sum())


def test_self_contained_no_network_no_scripts(report: str) -> None:
    assert report.startswith("<!DOCTYPE html>")
    assert "<script" not in report and "<link" not in report and "@import" not in report
    assert not re.search(r"""(src|href)\s*=|url\(""", report)
    assert "http://" not in report and "https://" not in report
    assert report.count("<svg") == 4  # the timeline twice: wide for a desktop, narrow for a phone


def test_headline_deltas_legend_and_device(report: str) -> None:
    hero = re.search(r'<section class="hero">(.*?)</section>', report)
    assert hero is not None and report.index("hero") < report.index('class="cards"')
    assert re.search(r'class="big">\d+ %<', hero.group(1)) and "goal 80 %" in hero.group(1)
    assert "2 worn days in a row at the goal" in hero.group(1)  # today, the day like it, then one below the goal
    cards = dict(re.findall(r'class="k">([^<]+)</div><div class="v">[^<]*</div><div class="d ?([a-z]*)"',
                            report))
    # more sitting and fewer steps than the average are bad, more breaks good; wear is neither
    assert cards == {"worn": "", "sitting": "bad", "breaks": "good", "sustained lean": "",
                     "left / right": "", "steps": "bad"}
    assert "asymmetry</div>" not in report  # the index is explained in words, not a card
    c = {"days": {"count": 4.0}, "wear_s": {"delta": 361 * 60.0}, "upright_share": {"delta": -0.012}}
    assert _delta(c, "wear_s", " min", 1 / 60) == ("▲ 6 h 01 min vs 4-day avg", "")
    assert _delta(c, "upright_share", " points", 100.0, better=+1) == ("▼ 1 point vs 4-day avg", "bad")
    assert _delta({**c, "steps": {"delta": 3197.0}}, "steps", "", better=+1) == ("▲ 3,197 vs 4-day avg", "good")
    assert "slouch nudge" in report and "sitting reminder" in report and "lean nudge" in report
    assert "sensor 0001" in report and ">00c0ffee00000001<" not in report
    assert device_name("00c0ffee00000001") == "sensor 0001" and device_name("") == "–"
    assert "prefers-color-scheme:dark" in report and "@media print" in report


def test_a_near_zero_median_bend_is_not_called_bent_forward() -> None:
    sd = cached_day()
    s = summarize_events(split_events(sd.events), wall_offset_s=sd.wall_offset_s, tz=UTC)
    for median, said in ((0.3, "upright front to back at the median"), (-2.6, "tilted back by 3°"),
                         (7.8, "bent forward by 8°")):
        words = " ".join(plain_words(replace(s, flexion_percentiles_deg=(median - 1, median, median + 1)), UTC))
        assert said in words and "by 0°" not in words, words


def test_plain_words_tell_the_numbers() -> None:
    sd = cached_day()
    s = summarize_events(split_events(sd.events), wall_offset_s=sd.wall_offset_s, tz=UTC)
    words = " ".join(plain_words(s, UTC))
    assert "You wore the sensor for 7 h" in words or "You wore the sensor for 8 h" in words
    assert "right side dominated" in words or "balanced" in words
    assert f"{s.steps:,} steps" in words and "Morning stretch: done at 08:30" in words
    assert plain_words(summarize_day([])) == ["No wear was recorded on this day."]


def test_an_empty_day_still_renders(tmp_path: Path) -> None:
    html = render_day(summarize_day([]), split_events([]))
    assert "No wear was recorded" in html and "<svg" not in html


@needs_chromium
def test_chromium_renders_the_charts(report: str, tmp_path: Path) -> None:
    page = tmp_path / "report.html"
    page.write_text(report, encoding="utf-8")
    # a copy that writes each SVG's laid-out size and shape count into the DOM, read with --dump-dom
    probe = tmp_path / "probe.html"
    probe.write_text(report.replace("</body>", "<script>for (const s of document.querySelectorAll('svg')) {"
                                    "const r = s.getBoundingClientRect(); s.setAttribute('data-size', "
                                    "Math.round(r.width) + 'x' + Math.round(r.height) + 'x' + "
                                    "s.querySelectorAll('rect,path').length);}</script></body>"),
                     encoding="utf-8")
    dom = chromium(["--dump-dom", probe.as_uri()], tmp_path)
    assert dom.returncode == 0, dom.stderr[-2000:]
    sizes = re.findall(r'class="(timeline wide|histogram|hourly)"[^>]*data-size="(\d+)x(\d+)x(\d+)"',
                       dom.stdout)
    assert {s[0] for s in sizes} == {"timeline wide", "histogram", "hourly"}, dom.stdout[:500]
    for name, w, h, shapes in sizes:
        assert int(w) > 300 and int(h) > 150 and int(shapes) > 8, (name, w, h, shapes)

    shot = tmp_path / "shot.png"
    res = chromium([f"--screenshot={shot}", page.as_uri()], tmp_path)
    assert res.returncode == 0 and shot.exists(), res.stderr[-2000:]
    img = read_png(shot)
    assert img.shape[:2] == (2000, 1200)
    assert float(img.std()) > 20.0  # not blank
    assert len(np.unique(img.reshape(-1, 3)[::7], axis=0)) > 50
    # the charts' colours are on the page: left and right bars, walking spans and activity
    assert near(img, LEFT) > 400 and near(img, RIGHT) > 400 and near(img, WALK) > 200


#: in the page around the report: lays the report out in an iframe `width` px wide (a viewport of that
#: size: headless Chromium will not make a window narrower than 500 px), then writes what it measured
#: into the DOM for --dump-dom
_PROBE = """<!DOCTYPE html><html><body style="margin:0"><iframe id="f" style="border:0;width:{w}px;
height:1500px" srcdoc="{doc}"></iframe><script>window.addEventListener('load', () => {{
const f = document.getElementById('f'), d = f.contentDocument, w = f.contentWindow;
const out = {{scroll: d.documentElement.scrollWidth, client: d.documentElement.clientWidth,
  inner: w.innerWidth, charts: {{}}}};
for (const s of d.querySelectorAll('svg')) {{
  const r = s.getBoundingClientRect();
  if (!r.width) continue;
  let px = 1e9;
  for (const t of s.querySelectorAll('text'))
    px = Math.min(px, parseFloat(w.getComputedStyle(t).fontSize) * s.getScreenCTM().a);
  out.charts[s.getAttribute('class')] = {{left: r.left, top: r.top, width: r.width, height: r.height,
    min_text_px: px, texts: s.querySelectorAll('text').length}};
}}
out.cards = [...d.querySelectorAll('.card')].map(c => c.getBoundingClientRect().right);
out.clipped = [...d.querySelectorAll('.card .v, .card .k, .hero .big')]
  .filter(e => e.scrollWidth > e.clientWidth + 1).map(e => e.textContent);
document.body.setAttribute('data-probe', JSON.stringify(out));
}});</script></body></html>"""


def measure(report: str, width_px: int, tmp: Path) -> dict:
    page = tmp / f"probe{width_px}.html"
    page.write_text(_PROBE.format(w=width_px, doc=html.escape(report)), encoding="utf-8")
    dom = chromium(["--dump-dom", page.as_uri()], tmp)
    assert dom.returncode == 0, dom.stderr[-2000:]
    m = re.search(r'data-probe="([^"]*)"', dom.stdout)
    assert m is not None, dom.stdout[-1000:]
    return json.loads(html.unescape(m.group(1)))


@needs_chromium
@pytest.mark.parametrize("width_px", [390, 800, 1280])
def test_fits_a_phone_and_a_desktop(report: str, width_px: int, tmp_path: Path) -> None:
    m = measure(report, width_px, tmp_path)
    assert m["inner"] == width_px
    assert m["scroll"] <= m["client"] <= m["inner"], m  # nothing runs off the right edge
    assert m["clipped"] == [], m["clipped"]  # no card's figure runs out of its card
    charts = m["charts"]
    timeline = "timeline narrow" if width_px < 720 else "timeline wide"
    assert set(charts) == {timeline, "histogram", "hourly"}, charts
    for name, c in charts.items():
        assert c["min_text_px"] >= 10.0, (name, c)  # every chart's text readable
        assert c["texts"] > 8 and c["left"] >= 0 and c["left"] + c["width"] <= m["client"], (name, c)
    h, hr = charts["histogram"], charts["hourly"]
    if width_px <= 1000:  # stacked, each as wide as the page allows
        assert hr["top"] >= h["top"] + h["height"] and h["width"] > 0.8 * m["client"]
    else:  # side by side, the timeline across the page
        assert hr["top"] == h["top"] and charts[timeline]["width"] > 900
    assert max(m["cards"]) <= m["client"]


@needs_chromium
def test_dark_mode_follows_the_system(report: str, tmp_path: Path) -> None:
    page = tmp_path / "report.html"
    page.write_text(report, encoding="utf-8")
    shots = {}
    for scheme, flags in (("light", []), ("dark", ["--force-dark-mode"])):
        shot = tmp_path / f"{scheme}.png"
        res = chromium([*flags, "--hide-scrollbars", f"--screenshot={shot}", page.as_uri()], tmp_path)
        assert res.returncode == 0 and shot.exists(), res.stderr[-2000:]
        shots[scheme] = read_png(shot)
    # the page's background (a margin pixel) and its text colour: light on dark, dark on light
    assert near(shots["light"][5:6, 5:6], "#f4f6f9", 3) == 1 and near(shots["dark"][5:6, 5:6], "#0f141a", 3) == 1
    assert near(shots["dark"], "#e3e9f0", 40) > 500 and near(shots["light"], "#1d2733", 40) > 500
    # the charts keep their colours in the dark
    assert near(shots["dark"], LEFT) > 400 and near(shots["dark"], RIGHT) > 400
