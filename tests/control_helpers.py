"""A real monitor for the control tests: a simulated sitting wearer through the real Service, pipeline and
SQLite sink, in a thread, with the device's time advanced only as far as the test allows (the fake clock:
no test waits through a 5-minute snooze)."""

from __future__ import annotations

import math
import threading
import time
from pathlib import Path
from typing import Any

from monitor.commands.run import pipeline_factory
from monitor.config import Config
from monitor.control import Controller
from monitor.control.pauses import PauseStore
from monitor.control.wiring import Control, start_control
from monitor.events import Alert
from monitor.service.core import Service
from monitor.service.session import ServiceOptions
from monitor.sim import Simulator, scenario_from_toml
from monitor.sim.device import VirtualDevice
from monitor.sim.links import SimulatedSource
from monitor.sinks.sqlite import SqliteSink
from monitor.sources.base import Item
from tests.wait import WAIT_S, wait_for

#: Monday 2026-11-30 09:00 UTC: inside the default work hours
MONDAY_9H = 1_796_029_200.0

SITTING = """
name = "sitting"
seed = 5
start_posture = "sit"
[sensor]
part = "BMI270"
[[segment]]
do = "sit"
minutes = 60
"""

#: sitting reminders after 2 min, then every 2 min: the timers are short, the rules the real ones
PIPELINE = {"sedentary": {"alert_after_s": 120.0, "repeat_s": 120.0}}


class GatedSource(SimulatedSource):
    """The simulated device, advanced only up to `limit_s` of device time."""

    def __init__(self, device: VirtualDevice) -> None:
        super().__init__(device, step_s=1.0)
        self.limit_s = 0.0

    def get(self, timeout_s: float) -> Item | None:
        if self._pending or self._t_s + self.step_s <= self.limit_s:
            return super().get(timeout_s)
        time.sleep(min(timeout_s, 0.01))
        return None


class Monitor:
    """The service in a thread; `advance_to(t)` lets the device reach t and waits until it is processed."""

    def __init__(self, tmp: Path, extra_sinks: list[Any] | None = None, socket_path: Path | None = None,
                 wall_s: float = MONDAY_9H, pauses: PauseStore | None = None) -> None:
        sim = Simulator(scenario_from_toml(SITTING), odr_hz=25.0)
        dev = VirtualDevice(sim.chunks(10.0), sim.odr_hz, batch_size=25, seed=3,
                            device_id=bytes.fromhex("5e11501234567890"))
        self.device_id = "5e11501234567890"
        self.source = GatedSource(dev)
        self.db = tmp / "posture.db"
        cfg = Config(pipeline=PIPELINE)
        self.alerts: list[Alert] = []
        self.controller = Controller(wall_clock=lambda: wall_s, pauses=pauses)
        self.service = Service(self.source, pipeline_factory(cfg, live=False, wall_offset_s=wall_s),
                               [SqliteSink(self.db), *(extra_sinks or [])], ServiceOptions(poll_s=0.02))
        self.service.on_event = lambda d, ev: self.alerts.append(ev) if isinstance(ev, Alert) else None
        self.socket = socket_path or tmp / "run" / "control.sock"
        self.control: Control = start_control(self.service, self.controller, socket_path=self.socket)
        assert self.control.server is not None, "the control socket did not open"
        self._thread = threading.Thread(target=self.service.run, daemon=True)

    def __enter__(self) -> Monitor:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.service.stop()
        self._thread.join(WAIT_S)
        self.control.close()

    @property
    def t_s(self) -> float:
        s = self.service.sessions.get(self.device_id)
        return -1.0 if s is None or s.last_t_s is None else s.last_t_s

    def advance_to(self, t_s: float) -> None:
        self.source.limit_s = t_s
        wait_for(lambda: self.t_s >= t_s - 2.0, f"the device to reach {t_s} s")

    def sedentary(self) -> list[Alert]:
        return [a for a in list(self.alerts) if a.alert_kind == "sedentary"]

    def run_until_alert(self, after_s: float = -1.0, limit_s: float = 3000.0, step_s: float = 5.0) -> Alert:
        """Advance step by step until a sitting reminder later than after_s arrives."""
        t = float(math.ceil(self.t_s))
        while True:
            new = [a for a in self.sedentary() if a.t_s > after_s]
            if new:
                return new[0]
            assert t < limit_s, f"no sitting reminder after {after_s} s by {limit_s} s: {self.alerts}"
            t += step_s
            self.advance_to(t)


