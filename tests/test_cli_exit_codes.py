"""Exit codes and what a terminal shows: `record`/`run --duration` fail when no device ever appeared, the
console prints each alert once and clears the status line first on a terminal, `replay` shows progress."""

from __future__ import annotations

import io
import logging
import os
import pty
import re
import select
import subprocess
import sys
from pathlib import Path

import pytest

from monitor.cli import main
from monitor.events import Alert, LeanEpisode
from monitor.sinks import ConsoleSink

POSTURE = [sys.executable, "-m", "monitor"]


@pytest.mark.parametrize("command", [["record", "--out", "{tmp}"], ["run", "--no-db", "--captures", "{tmp}"]])
def test_no_device_in_the_whole_duration_is_a_failure(command: list[str], tmp_path: Path,
                                                      capsys: pytest.CaptureFixture[str],
                                                      caplog: pytest.LogCaptureFixture) -> None:
    old = tmp_path / "00c0ffee00000001" / "20200101T080000Z.cap"  # a capture from long ago, the monitor's
    old.parent.mkdir()
    old.write_bytes(b"\x00")
    os.utime(old, (1.5e9, 1.5e9))
    master, slave = pty.openpty()  # a real serial port with nothing behind it
    caplog.set_level(logging.INFO, logger="posture")
    try:
        argv = [a.replace("{tmp}", str(tmp_path)) for a in command]
        assert main([*argv, "--serial", os.ttyname(slave), "--no-status", "--duration", "1.5",
                     "--config", "/dev/null"]) == 1
    finally:
        os.close(master)
        os.close(slave)
    err = capsys.readouterr().err
    assert re.search(r"no device appeared in \d+ s", err) and "posture ports" in err, err
    # said at start: where the captures go and for how long they are kept; the old one is gone
    assert f"raw captures go to {tmp_path} and are kept 30 days" in caplog.text and not old.exists()


def test_console_prints_an_alert_once_and_clears_the_status_line_on_a_terminal(
        caplog: pytest.LogCaptureFixture) -> None:
    master, slave = pty.openpty()
    term = os.fdopen(slave, "w", encoding="utf-8")
    try:
        sink = ConsoleSink(term)
        with caplog.at_level(logging.INFO, logger="posture.alerts"):
            sink.handle("abc", Alert(12.5, "lean", "Leaning left for over a minute.", 3, "left"))
            sink.handle("abc", LeanEpisode(10.0, 90.0, "left", 14.0, 12.0))
        term.flush()
        shown = ""
        while shown.count("\n") < 2:  # the pty hands the bytes over in pieces as it likes
            ready, _, _ = select.select([master], [], [], 30.0)
            assert ready, f"the terminal showed only {shown!r}"
            shown += os.read(master, 4096).decode()
    finally:
        term.close()
        os.close(master)
    assert shown.count("Leaning left for over a minute.") == 1
    lines = [ln for ln in shown.replace("\r\n", "\n").split("\n") if ln]
    assert len(lines) == 2 and all(ln.startswith("\r\x1b[K[abc] ") for ln in lines), lines
    assert not caplog.records  # the logger does not print it a second time at INFO
    plain = io.StringIO()  # not a terminal: no control characters
    ConsoleSink(plain).handle("abc", Alert(12.5, "lean", "x"))
    assert plain.getvalue().startswith("[abc] ")


def test_replay_shows_progress(tmp_path: Path) -> None:
    cap = tmp_path / "lean.cap"
    assert main(["simulate", "--scenario", "lean", "--odr", "25", "--out", str(cap)]) == 0
    res = subprocess.run([*POSTURE, "replay", str(cap), "--quiet"], capture_output=True, text=True, timeout=300,
                         check=False)
    assert res.returncode == 0, res.stderr
    assert "replaying lean.cap [" in res.stderr and "%" in res.stderr
    res = subprocess.run([*POSTURE, "replay", str(cap), "--quiet", "--no-progress"], capture_output=True,
                         text=True, timeout=300, check=False)
    assert res.returncode == 0 and "replaying" not in res.stderr


@pytest.mark.parametrize("extra", [[], ["--json"]])
def test_summary_into_a_closed_pipe_ends_quietly(week_db: Path, extra: list[str]) -> None:
    read_end, write_end = os.pipe()
    os.close(read_end)  # `| head` that has already read all it wanted
    try:
        res = subprocess.run([*POSTURE, "summary", "--db", str(week_db), *extra], stdout=write_end,
                             stderr=subprocess.PIPE, text=True, timeout=300, check=False)
    finally:
        os.close(write_end)
    assert res.returncode == 0 and res.stderr == "", res.stderr
