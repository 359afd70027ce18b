"""Alerts as desktop notifications.

Why these tools: the project may not add runtime dependencies beyond numpy, ahrs, pyserial and
paho-mqtt, so no D-Bus binding (dbus-python, jeepney) and no notification wrapper (notify2, plyer,
desktop-notifier). Instead it runs the platform's own command-line client:

- Linux/BSD: `notify-send` (libnotify, the freedesktop.org Desktop Notifications reference client) when it
  is on PATH and there is a session bus or a display ($DBUS_SESSION_BUS_ADDRESS, $DISPLAY or
  $WAYLAND_DISPLAY): GNOME, KDE, XFCE, sway+mako and dunst all serve that D-Bus interface.
- macOS: `osascript -e 'display notification ...'` (AppleScript, part of every macOS).

Otherwise (a headless server, a service without a session, Windows) it falls back quietly: one debug-level
log line, then nothing; alerts still reach the console/log sink and MQTT. The client runs without a
shell (arguments as a list, so alert text can not inject commands), without blocking the pipeline (Popen;
finished children are reaped on the next call, at most `max_children` at a time), and a failure to start
it disables the sink with one warning instead of raising into the pipeline.
"""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import sys
from collections.abc import Mapping
from typing import Any

from monitor.events import Alert, Event

log = logging.getLogger("posture.alerts")


def desktop_command(
    title: str, body: str, platform: str | None = None, env: Mapping[str, str] | None = None
) -> list[str] | None:
    """The notification command line for this platform and session, or None when there is no desktop."""
    platform = platform or sys.platform
    env = os.environ if env is None else env
    if platform == "darwin":
        exe = shutil.which("osascript", path=env.get("PATH"))
        if exe is None:
            return None
        esc = [s.replace("\\", "\\\\").replace('"', '\\"') for s in (body, title)]
        return [exe, "-e", f'display notification "{esc[0]}" with title "{esc[1]}"']
    if platform.startswith(("linux", "freebsd", "openbsd", "netbsd")):
        if not any(env.get(k) for k in ("DBUS_SESSION_BUS_ADDRESS", "DISPLAY", "WAYLAND_DISPLAY")):
            return None
        exe = shutil.which("notify-send", path=env.get("PATH"))
        if exe is None:
            return None
        return [exe, "--app-name=posture", "--urgency=normal", "--expire-time=15000", title, body]
    return None


class DesktopSink:
    """Alerts as desktop notifications; quietly nothing when there is no desktop session (see module doc)."""

    def __init__(
        self, platform: str | None = None, env: Mapping[str, str] | None = None, max_children: int = 4
    ) -> None:
        self.platform = platform
        self.env = dict(os.environ if env is None else env)
        self.max_children = max_children
        self._children: list[subprocess.Popen[bytes]] = []
        self.available = desktop_command("t", "b", platform, self.env) is not None
        self.sent = 0  #: notifications started
        if not self.available:
            log.debug(
                "no desktop session (no notify-send/osascript or no display): desktop notifications off"
            )

    def on_device(self, device_id: str, info: dict[str, Any]) -> None:
        pass

    def handle(self, device_id: str, event: Event) -> None:
        if not self.available or not isinstance(event, Alert):
            return
        self._reap()
        if len(self._children) >= self.max_children:
            log.debug("desktop notification dropped: %d still running", len(self._children))
            return
        cmd = desktop_command(
            f"posture: {event.alert_kind.replace('_', ' ')}", event.text, self.platform, self.env
        )
        if cmd is None:
            return
        try:
            self._children.append(
                subprocess.Popen(
                    cmd,
                    env=self.env,
                    stdin=subprocess.DEVNULL,
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                )
            )
            self.sent += 1
        except OSError as err:
            log.warning("desktop notifications off: %s failed: %s", cmd[0], err)
            self.available = False

    def _reap(self) -> None:
        self._children = [c for c in self._children if c.poll() is None]

    def close(self, timeout_s: float = 2.0) -> None:
        for c in self._children:
            try:
                c.wait(timeout=timeout_s)
            except subprocess.TimeoutExpired:
                c.kill()
                c.wait()
        self._children.clear()
