"""Desktop notification buttons against a REAL notification server: dunst on a private D-Bus session bus
(dbus-daemon) and a virtual X display (Xvfb). The button is chosen the way a keyboard user does in dunst:
`dunstctl context` opens the notification's action menu (dunst's `dmenu` program, here a script that picks
the line we ask for), and dunst itself emits ActionInvoked; notify-send prints the action; the answer
reaches the running monitor's alert policy and the database. Skips, saying why, if a peer is missing
(.ci/run installs dunst, xvfb and dbus)."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from monitor.control.desktop import ActionDesktopSink
from monitor.events import AlertResponse
from tests.control_helpers import Monitor, wait_for
from tests.test_control import _stored

NEEDED = ("dunst", "dunstctl", "Xvfb", "dbus-daemon", "notify-send")


class Desktop:
    """A private session bus, an Xvfb display and dunst on them; `env` reaches all three."""

    def __init__(self, tmp: Path) -> None:
        self.procs: list[subprocess.Popen[bytes]] = []
        bus = subprocess.Popen(["dbus-daemon", "--session", "--nofork", "--print-address=1",
                                f"--address=unix:path={tmp}/bus"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        self.procs.append(bus)
        assert bus.stdout is not None
        address = bus.stdout.readline().decode().strip()
        xvfb = subprocess.Popen(["Xvfb", "-displayfd", "1", "-screen", "0", "800x600x24", "-nolisten", "tcp"],
                                stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        self.procs.append(xvfb)
        assert xvfb.stdout is not None
        display = xvfb.stdout.readline().decode().strip()
        assert address and display, "the bus or the display did not start"
        self.choice = tmp / "choice"
        self.menu = tmp / "menu.txt"
        pick = tmp / "pick.sh"  # dunst's menu program: shows the actions, prints the one chosen
        pick.write_text(f'#!/bin/sh\ncat > "{self.menu}"\ngrep -m1 ",$(cat "{self.choice}")]" "{self.menu}"\n')
        pick.chmod(0o755)
        (tmp / "dunstrc").write_text(f"[global]\ndmenu = {pick}\n")
        self.env = {**os.environ, "DBUS_SESSION_BUS_ADDRESS": address, "DISPLAY": f":{display}"}
        self.procs.append(subprocess.Popen(["dunst", "-config", str(tmp / "dunstrc")], env=self.env,
                                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        wait_for(lambda: self.ctl("is-paused").returncode == 0, "dunst to serve the bus")

    def ctl(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(["dunstctl", *args], env=self.env, capture_output=True, text=True, timeout=30)

    def displayed(self) -> int:
        r = self.ctl("count", "displayed")
        return int(r.stdout.strip() or 0) if r.returncode == 0 else 0

    def click(self, action: str) -> None:
        """Choose `action` in the newest notification's action menu."""
        self.choice.write_text(action)
        r = self.ctl("context")
        assert r.returncode == 0, r.stderr

    def close(self) -> None:
        for p in reversed(self.procs):
            p.terminate()
            try:
                p.wait(10)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
            if p.stdout is not None:
                p.stdout.close()


@pytest.fixture
def desktop(tmp_path: Path) -> Iterator[Desktop]:
    missing = [x for x in NEEDED if shutil.which(x) is None]
    if missing:
        pytest.skip(f"{', '.join(missing)} not installed (.ci/run installs dunst, xvfb, dbus, libnotify-bin)")
    d = Desktop(tmp_path)
    yield d
    d.close()


def test_clicking_snooze_and_done_on_the_notification_answers_the_alert(desktop: Desktop, tmp_path: Path,
                                                                       utc: None) -> None:
    m = Monitor(tmp_path)
    sink = ActionDesktopSink(m.controller, env=desktop.env)
    assert sink.available and sink.actions, "notify-send with actions on this desktop"
    m.service.sinks.append(sink)
    with m:
        first = m.run_until_alert()
        wait_for(lambda: desktop.displayed() >= 1, "the notification to show")
        desktop.click("snooze")
        _stored(m.db, first.alert_id, AlertResponse.SNOOZED)
        menu = desktop.menu.read_text()  # what dunst offered: the three buttons
        assert "#Done " in menu and "#Snooze 10 min " in menu and "#Skip " in menu, menu
        assert sink.answered == 1
        wait_for(lambda: desktop.displayed() == 0, "dunst to close the answered notification")
        # the monitor went on meanwhile: the next reminder comes 10 min after the click
        t_click = m.t_s
        second = m.run_until_alert(after_s=first.t_s, step_s=10.0)
        assert t_click + 600.0 <= second.t_s <= t_click + 620.0
        wait_for(lambda: desktop.displayed() >= 1, "the second notification")
        desktop.click("done")
        _stored(m.db, second.alert_id, AlertResponse.ACKNOWLEDGED)
    assert sink.answered == 2
