"""Starts and stops the control channels of a running monitor around a Service (used by `posture run`)."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

from monitor.control.controller import Controller
from monitor.control.protocol import ControlError
from monitor.control.server import ControlServer

if TYPE_CHECKING:
    from monitor.mqtt_common import MqttSettings
    from monitor.service.core import Service

log = logging.getLogger("posture.control")


class Control:
    """The channels started for one service; `close()` stops them (idempotent)."""

    def __init__(self, controller: Controller, server: ControlServer | None, extra: list[Any]) -> None:
        self.controller = controller
        self.server = server
        self.extra = extra  #: more channels with a close() (MQTT control)

    def close(self) -> None:
        if self.server is not None:
            self.server.close()
            self.server = None
        for x in self.extra:
            try:
                x.close()
            except Exception:
                log.exception("closing %r failed", x)
        self.extra = []


def start_control(service: Service, controller: Controller, extra: list[Any] | None = None,
                  socket_path: Path | None = None, mqtt: MqttSettings | None = None) -> Control:
    """Attach the controller to the service, open the control socket and (with `mqtt`) the MQTT control
    topic. A socket that can not be opened (another monitor has it, no writable runtime directory) costs a
    warning, never the monitoring."""
    controller.attach(service)
    extra = list(extra or [])
    if mqtt is not None:
        from monitor.control.mqtt import MqttControl

        ctl = MqttControl(mqtt, controller)
        ctl.start()
        extra.append(ctl)
    server: ControlServer | None = ControlServer(controller, socket_path)
    assert server is not None
    try:
        server.start()
    except (ControlError, OSError) as err:
        log.warning("no control socket (posture status/done/snooze/... will not reach this monitor): %s", err)
        server = None
    return Control(controller, server, extra)


__all__ = ["Control", "start_control"]
