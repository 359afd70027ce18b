"""The control protocol of a running monitor: one JSON object a line, one request, one response.

Sans-IO (bytes in, values out): the Unix socket server and client (monitor.control.server), the MQTT
control topic (monitor.control.mqtt) and the desktop notification buttons (monitor.control.desktop) all
decode with it, so every way in takes the same requests and rejects the same bad ones.

    request   {"action": "status"|"done"|"snooze"|"skip"|"pause"|"resume",
               "device": "ID or its last digits" (optional), "minutes": N (snooze, pause; optional),
               "until": "HH:MM" (pause; optional), "alert_id": N (answer that alert; optional)}\\n
    response  {"ok": true, ...}\\n   or   {"ok": false, "error": "what was wrong"}\\n

A request line is at most MAX_LINE_BYTES; anything else (not JSON, not an object, an unknown action or
field, a bad number) is a ControlError whose message says what is wrong, for the peer to read.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from typing import Any

from monitor.events import AlertResponse
from monitor.pipeline.alerts import AlertPolicyError, parse_hhmm

ACTIONS = ("status", "done", "snooze", "skip", "pause", "resume")
#: the answers to an alert and what the alert policy records for each
ANSWERS: dict[str, AlertResponse] = {"done": AlertResponse.ACKNOWLEDGED, "snooze": AlertResponse.SNOOZED,
                                     "skip": AlertResponse.SKIPPED}
MAX_LINE_BYTES = 4096  #: a longer request is refused
MAX_MINUTES = 7 * 24 * 60.0  #: a snooze or pause longer than a week is a typo
DEFAULT_SNOOZE_MIN = 10.0
_FIELDS = {"action", "device", "minutes", "until", "alert_id"}


class ControlError(ValueError):
    """A request that can not be carried out (bad syntax, or nothing to act on); the text says why."""


@dataclass(frozen=True, slots=True)
class Request:
    action: str  #: one of ACTIONS
    device: str | None = None  #: a device id or its last digits; None: the only one, or all (pause/resume)
    minutes: float | None = None  #: snooze or pause length, min (None: snooze 10, pause until resumed)
    until: str | None = None  #: pause until this local HH:MM (the next one to come)
    alert_id: int | None = None  #: answer this alert instead of the device's latest open one


def request_from_obj(obj: Any) -> Request:
    """A Request from a decoded JSON value; ControlError naming the problem otherwise."""
    if not isinstance(obj, dict):
        raise ControlError(f"a request is a JSON object, got {type(obj).__name__}")
    unknown = set(obj) - _FIELDS
    if unknown:
        raise ControlError(f"unknown field(s) {', '.join(sorted(map(str, unknown)))}; "
                           f"known: {', '.join(sorted(_FIELDS))}")
    action = obj.get("action")
    if action not in ACTIONS:
        raise ControlError(f"action {action!r}: expected one of {', '.join(ACTIONS)}")
    device = obj.get("device")
    if device is not None and (not isinstance(device, str) or not device or len(device) > 64):
        raise ControlError(f"device {device!r}: expected a device id")
    minutes = obj.get("minutes")
    if minutes is not None:
        if isinstance(minutes, bool) or not isinstance(minutes, int | float) or not math.isfinite(minutes) \
                or not 0 < minutes <= MAX_MINUTES:
            raise ControlError(f"minutes {minutes!r}: expected a number above 0 and at most {MAX_MINUTES:g}")
        minutes = float(minutes)
    until = obj.get("until")
    if until is not None:
        try:
            parse_hhmm(until)
        except AlertPolicyError as err:
            raise ControlError(str(err)) from None
    if until is not None and minutes is not None:
        raise ControlError("give minutes or until, not both")
    if (minutes is not None or until is not None) and action not in ("snooze", "pause"):
        raise ControlError(f"{action} takes no minutes or until")
    if until is not None and action != "pause":
        raise ControlError("only pause takes until")
    alert_id = obj.get("alert_id")
    if alert_id is not None and (isinstance(alert_id, bool) or not isinstance(alert_id, int) or alert_id < 1):
        raise ControlError(f"alert_id {alert_id!r}: expected a positive integer")
    if alert_id is not None and action not in ANSWERS:
        raise ControlError(f"{action} takes no alert_id")
    return Request(action, device, minutes, until, alert_id)


def decode_request(line: bytes | str) -> Request:
    """One request line -> Request; ControlError if it is too long, not JSON or not a valid request."""
    if len(line) > MAX_LINE_BYTES:
        raise ControlError(f"request longer than {MAX_LINE_BYTES} bytes")
    try:
        obj = json.loads(line)
    except (ValueError, UnicodeDecodeError) as err:
        raise ControlError(f"not JSON: {err}") from None
    return request_from_obj(obj)


def encode_request(req: Request) -> bytes:
    d = {k: getattr(req, k) for k in ("action", "device", "minutes", "until", "alert_id")}
    return _line({k: v for k, v in d.items() if v is not None})


def encode_response(obj: dict[str, Any]) -> bytes:
    return _line(obj)


def error_response(message: str) -> dict[str, Any]:
    return {"ok": False, "error": message}


def decode_response(line: bytes) -> dict[str, Any]:
    try:
        obj = json.loads(line)
    except ValueError as err:
        raise ControlError(f"the monitor sent a response that is not JSON: {err}") from None
    if not isinstance(obj, dict) or not isinstance(obj.get("ok"), bool):
        raise ControlError("the monitor sent a response without 'ok'")
    return obj


def _line(obj: dict[str, Any]) -> bytes:
    return json.dumps(obj, separators=(",", ":"), allow_nan=False).encode() + b"\n"


_DURATION = re.compile(r"^\s*(?:(\d+(?:\.\d+)?)\s*h)?\s*(?:(\d+(?:\.\d+)?)\s*(?:m|min)?)?\s*$", re.IGNORECASE)


def parse_minutes(text: str) -> float:
    """ "30m", "2h", "1h30m", "45" (minutes) -> minutes; ControlError otherwise."""
    m = _DURATION.match(text)
    if not m or not (m.group(1) or m.group(2)):
        raise ControlError(f"duration {text!r}: expected e.g. 30m, 2h, 1h30m or a number of minutes")
    minutes = float(m.group(1) or 0) * 60.0 + float(m.group(2) or 0)
    if not 0 < minutes <= MAX_MINUTES:
        raise ControlError(f"duration {text!r}: expected more than 0 and at most a week")
    return minutes


__all__ = ["ACTIONS", "ANSWERS", "ControlError", "DEFAULT_SNOOZE_MIN", "MAX_LINE_BYTES", "Request",
           "decode_request", "decode_response", "encode_request", "encode_response", "error_response",
           "parse_minutes", "request_from_obj"]
