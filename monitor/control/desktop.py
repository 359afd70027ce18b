"""Desktop notifications with Done / Snooze / Skip buttons, answered back into the running monitor.

`notify-send -A name=Label` (libnotify 0.7.9 and later) shows the buttons where the notification server
supports actions (GNOME, KDE, XFCE, dunst, mako), waits, and prints the chosen action's name when the
wearer clicks one (the server's ActionInvoked D-Bus signal), or nothing when the notification is closed or
expires. So each alert gets its own `notify-send` child and a small thread that waits for its answer
(bounded by `answer_window_s`, the policy's ignore_after_s: after that the alert counts as ignored anyway)
and queues it on the Controller for that very alert (`alert_id`), which carries it out in the service's
thread. Nothing here blocks the service; at most `max_children` notifications wait at once (the oldest is
closed first). Where notify-send has no actions, or on macOS, it is the plain DesktopSink.
"""

from __future__ import annotations

import logging
import shutil
import subprocess
import threading
from collections.abc import Mapping
from typing import Any

from monitor.control.controller import Controller
from monitor.control.protocol import Request
from monitor.events import Alert, Event
from monitor.sinks import DesktopSink, desktop_command

log = logging.getLogger("posture.control")

#: (action name sent back, button label)
BUTTONS = (("done", "Done"), ("snooze", "Snooze 10 min"), ("skip", "Skip"))


def supports_actions(env: Mapping[str, str]) -> bool:
    """True if this notify-send has `--action` (libnotify 0.7.9+)."""
    exe = shutil.which("notify-send", path=env.get("PATH"))
    if exe is None:
        return False
    try:
        r = subprocess.run([exe, "--help"], capture_output=True, text=True, timeout=10.0, env=dict(env))
    except (OSError, subprocess.TimeoutExpired):
        return False
    return "--action" in r.stdout


class ActionDesktopSink(DesktopSink):
    def __init__(self, controller: Controller, platform: str | None = None, env: Mapping[str, str] | None = None,
                 max_children: int = 4, answer_window_s: float = 300.0, expire_ms: int = 60_000) -> None:
        super().__init__(platform, env, max_children)
        self.controller = controller
        self.answer_window_s = answer_window_s
        self.expire_ms = expire_ms
        self.actions = self.available and (platform or "linux").startswith("linux") and supports_actions(self.env)
        self._waiting: list[tuple[subprocess.Popen[str], threading.Thread]] = []
        self._lock = threading.Lock()
        self.answered = 0  #: buttons clicked

    def handle(self, device_id: str, event: Event) -> None:
        if not self.actions or not isinstance(event, Alert):
            super().handle(device_id, event)
            return
        cmd = desktop_command(f"posture: {event.alert_kind.replace('_', ' ')}", event.text, self.platform,
                              self.env)
        if cmd is None:
            return
        cmd = [c if not c.startswith("--expire-time=") else f"--expire-time={self.expire_ms}" for c in cmd]
        cmd[-2:-2] = [f"--action={name}={label}" for name, label in BUTTONS]
        with self._lock:
            self._waiting = [(p, t) for p, t in self._waiting if t.is_alive()]
            while len(self._waiting) >= self.max_children:
                old, _ = self._waiting.pop(0)
                old.terminate()  # the oldest alert's buttons go; its alert is likely answered or ignored
        try:
            proc = subprocess.Popen(cmd, env=self.env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                    stderr=subprocess.DEVNULL, text=True)
        except OSError as err:
            log.warning("desktop notifications off: %s failed: %s", cmd[0], err)
            self.available = self.actions = False
            return
        self.sent += 1
        t = threading.Thread(target=self._wait, args=(proc, device_id, event.alert_id),
                             name="posture-notification", daemon=True)
        with self._lock:
            self._waiting.append((proc, t))
        t.start()

    def _wait(self, proc: subprocess.Popen[str], device_id: str, alert_id: int) -> None:
        try:
            out, _ = proc.communicate(timeout=self.answer_window_s)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.communicate()
            return
        except (OSError, ValueError):  # closed under us at shutdown
            return
        action = out.strip().splitlines()[-1] if out.strip() else ""
        if action not in dict(BUTTONS):
            return  # closed or expired without a click
        self.answered += 1
        self.controller.submit(Request(action, device=device_id, alert_id=alert_id), "desktop")

    def close(self, timeout_s: float = 2.0) -> None:
        with self._lock:
            waiting, self._waiting = self._waiting, []
        for proc, t in waiting:
            if proc.poll() is None:
                proc.terminate()
            t.join(timeout_s)
        super().close(timeout_s)


def desktop_sink(controller: Controller | None, **kw: Any) -> DesktopSink:
    """The desktop sink for `posture run`: with buttons when a controller can take the answers."""
    return ActionDesktopSink(controller, **kw) if controller is not None else DesktopSink(**kw)


__all__ = ["ActionDesktopSink", "BUTTONS", "desktop_sink", "supports_actions"]
