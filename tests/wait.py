"""Waiting on real I/O in other threads: one bounded poll, and a service run in a thread with a simulated
MQTT device connected to the same broker (tests of the live service over a real mosquitto)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

WAIT_S = 60.0  #: generous: the suite runs on busy machines


def wait_for(cond: Callable[[], Any], what: str, timeout_s: float = WAIT_S) -> None:
    """Poll cond() until it is true; fail naming `what` after timeout_s."""
    deadline = time.monotonic() + timeout_s
    while not cond():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.01)  # bounded poll of a real thread


@contextmanager
def serving(svc: Any, src: Any, mdev: Any) -> Iterator[None]:
    """`svc.run()` in a thread once its MQTT source `src` is connected, with the MqttDevice `mdev` connected
    too; afterwards the service is stopped and joined and the device stopped, whatever happened."""
    runner = threading.Thread(target=svc.run)
    try:
        runner.start()
        wait_for(src.connected.is_set, "the monitor to connect")
        mdev.start()
        assert mdev.wait_connected(WAIT_S)
        yield
    finally:
        svc.stop()
        runner.join(timeout=WAIT_S)
        mdev.stop()


def play(mdev: Any, seconds: float) -> None:
    """The device boots and sends `seconds` of samples, all acknowledged by the broker."""
    mdev.boot()
    mdev.advance(seconds)
    assert mdev.flush(WAIT_S)
