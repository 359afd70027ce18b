"""The HTML day report: self-contained, and rendered by a real headless Chromium (Debian's `chromium`)."""

from __future__ import annotations

import re
import shutil
import struct
import subprocess
import zlib
from datetime import UTC
from pathlib import Path

import numpy as np
import pytest

from monitor.report_html import LEFT, RIGHT, WALK, plain_words, render_day
from monitor.summary import split_events, summarize_day, summarize_events
from tests.sim_day_events import cached_day

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
needs_chromium = pytest.mark.skipif(CHROMIUM is None,
                                    reason="Debian's chromium is not installed (.ci/run installs it)")


@pytest.fixture(scope="module")
def report() -> str:
    sd = cached_day()
    ev = split_events(sd.events)
    s = summarize_events(ev, device_id="00c0ffee00000001", wall_offset_s=sd.wall_offset_s, tz=UTC)
    return render_day(s, ev, tz=UTC)


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
    assert report.count("<svg") == 3


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
    sizes = re.findall(r'class="(timeline|histogram|hourly)"[^>]*data-size="(\d+)x(\d+)x(\d+)"', dom.stdout)
    assert {s[0] for s in sizes} == {"timeline", "histogram", "hourly"}, dom.stdout[:500]
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
