"""`posture device [--serial PORT | --mqtt URL [--device ID]] [--info] [--rate HZ] [--batch N] [--stop] [--start]
[--buzz [MS,...]] [--time-sync]`: talk to the device itself, so every command of the protocol has a user.

It opens the serial port (PORT, or [device] port / vid / pid from the config) or, with --mqtt, the device's
topics at the broker (`<prefix>/<id>/cmd` out, `/msg` and `/info` in; without --device, the one device whose
retained DEVICE_INFO is there), asks for DEVICE_INFO
(REQUEST_INFO: the answer shows who the device is and which rates it accepts), then sends the commands asked
for, in this order: SET_RATE, STOP, START, HAPTIC, TIME_SYNC. Each is sent with a fresh cmd_id and waits
for its ACK; a command without an answer within --timeout is sent once more (PROTOCOL.md 4). One line is
printed per command; a NACK prints its reason. Exit status: 0 all acknowledged, 1 a NACK or no answer,
2 bad arguments or no port.

While `posture run` holds the port, stop it first: a serial port has one reader. Over MQTT both can talk to
the device at once (the monitor ignores ACKs of commands it did not send).
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from itertools import count
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import firmware_protocol as fp

HELP = "send commands to the device: info, set rate, start, stop, test buzz, time sync"

_REASONS = {1: "unknown command", 2: "bad argument", 3: "busy", 4: "unsupported", 5: "internal error"}


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--serial", metavar="PORT", help="the device's serial port (default: [device] port or vid/pid)")
    p.add_argument("--mqtt", metavar="URL", help="reach the device through this broker instead (mqtt[s]://host[:port]/prefix)")
    p.add_argument("--device", metavar="ID", help="with --mqtt: the device id (default: the only one announced)")
    p.add_argument("--config", help="TOML config (default: ~/.config/posture/config.toml if any)")
    p.add_argument("--info", action="store_true", help="show the device (the default when nothing else is asked)")
    p.add_argument("--rate", type=float, metavar="HZ", help="set the output data rate (SET_RATE)")
    p.add_argument("--batch", type=int, metavar="N", help="set the samples per IMU_BATCH, 1..84 (SET_RATE)")
    p.add_argument("--stop", action="store_true", help="stop streaming samples (STOP)")
    p.add_argument("--start", action="store_true", help="start streaming samples (START)")
    p.add_argument("--buzz", nargs="?", const="200,100,200", metavar="MS,...",
                   help="test the motor: on,off,on,... milliseconds (default 200,100,200) (HAPTIC)")
    p.add_argument("--intensity", type=int, default=200, help="motor drive for --buzz, 1..255 (default 200)")
    p.add_argument("--time-sync", action="store_true", help="measure the device clock against this host's")
    p.add_argument("--timeout", type=float, default=1.0, metavar="S", help="wait this long for each ACK")


@dataclass
class Answer:
    ack: fp.Ack | None  #: None: no answer
    after: list[Any]  #: messages that came after the ACK (while waiting)
    sent_us: int = 0  #: host clock when the command was sent (time.time_ns // 1000)
    got_us: int = 0  #: host clock when the ACK arrived


class SerialPort:
    """A pyserial port: framed messages out, a Decoder's messages in."""

    no_answer_hint = "is this the posture sensor, and is nothing else reading the port?"

    def __init__(self, ser: Any) -> None:
        import firmware_protocol as fp

        self.ser = ser
        self.dec = fp.Decoder()

    def send(self, msg: Any) -> None:
        import firmware_protocol as fp

        self.ser.write(fp.encode(msg))

    def receive(self) -> list[Any]:
        return list(self.dec.feed(self.ser.read(max(1, self.ser.in_waiting))))


class DeviceLink:
    """Commands over a port (SerialPort, or monitor.commands._device_mqtt.MqttPort), answers by cmd_id."""

    def __init__(self, port: Any, timeout_s: float) -> None:
        self.port = port
        self.timeout_s = timeout_s
        self.ids = count(1)
        self.info: fp.DeviceInfo | None = None

    def command(self, make: Any, then: type | None = None) -> Answer:
        """Send make(cmd_id); wait for its ACK (and, with `then`, for a message of that type after it)."""
        import firmware_protocol as fp

        for _attempt in range(2):
            cmd = make(next(self.ids) & 0xFFFF)
            sent = time.time_ns() // 1000
            self.port.send(cmd)
            ack: fp.Ack | None = None
            after: list[Any] = []
            got = 0
            deadline = time.monotonic() + self.timeout_s
            while time.monotonic() < deadline:
                for ev in self.port.receive():
                    if isinstance(ev, fp.DeviceInfo):
                        self.info = ev
                    if ack is None and isinstance(ev, fp.Ack) and ev.cmd_id == cmd.cmd_id:
                        ack, got = ev, time.time_ns() // 1000
                    elif ack is not None:
                        after.append(ev)
                if ack is not None and (then is None or not ack.ok or any(isinstance(e, then) for e in after)):
                    return Answer(ack, after, sent, got)
        return Answer(None, [])


def _describe(info: fp.DeviceInfo) -> str:
    model = info.imu_model_name
    rates = ", ".join(f"{r / 1000:g}" for r in info.rates_mhz) or "not listed (a 1.0 device)"
    return (f"device {info.device_id_hex}  {model}  fw {'.'.join(map(str, info.firmware))}  protocol "
            f"{'.'.join(map(str, info.protocol))}  {info.odr_hz:g} Hz  ±{info.accel_fs_g} g  "
            f"±{info.gyro_fs_dps} °/s  boot {info.boot_id:08x}  rates {rates} Hz")


def _result(what: str, a: Answer) -> tuple[str, bool]:
    if a.ack is None:
        return f"{what}: no answer", False
    if not a.ack.ok:
        return f"{what}: refused: {_REASONS.get(a.ack.status, f'status {a.ack.status}')}", False
    return f"{what}: ok", True


def _pulses(spec: str) -> tuple[tuple[int, int], ...]:
    ms = [int(x) for x in spec.split(",") if x.strip()]
    if not ms or any(not 0 <= m <= 65535 for m in ms):
        raise ValueError(f"--buzz needs on,off,on,... milliseconds (0..65535), got {spec!r}")
    ms += [0] * (len(ms) % 2)
    pulses = tuple(zip(ms[::2], ms[1::2], strict=True))
    if len(pulses) > 8:
        raise ValueError("--buzz takes at most 8 on/off pulses")
    return pulses


def talk(link: DeviceLink, args: argparse.Namespace, out: Any) -> bool:
    """Run the asked-for commands; print one line each. True if every one was acknowledged."""
    import firmware_protocol as fp

    a = link.command(fp.RequestInfo, then=fp.DeviceInfo)
    if a.ack is None or link.info is None:
        print(f"no answer to REQUEST_INFO: {link.port.no_answer_hint}", file=out)
        return False
    print(_describe(link.info), file=out)
    ok = True
    if args.rate is not None or args.batch is not None:
        odr = round(args.rate * 1000) if args.rate is not None else 0
        what = "set " + ", ".join(x for x in (f"rate {args.rate:g} Hz" if args.rate else "",
                                             f"batch {args.batch}" if args.batch else "") if x)
        a = link.command(lambda i: fp.SetRate(i, odr, args.batch or 0), then=fp.DeviceInfo if odr and odr !=
                         link.info.odr_mhz else None)
        line, good = _result(what, a)
        if good and odr:
            line += f" (now {link.info.odr_hz:g} Hz)"
        elif a.ack is not None and a.ack.status == fp.AckStatus.BAD_ARGUMENT and link.info.rates_mhz:
            line += f" (the device accepts {', '.join(f'{r / 1000:g}' for r in link.info.rates_mhz)} Hz)"
        print(line, file=out)
        ok &= good
    if args.stop:
        line, good = _result("stop", link.command(fp.Stop))
        print(line, file=out)
        ok &= good
    if args.start:
        line, good = _result("start", link.command(fp.Start))
        print(line, file=out)
        ok &= good
    if args.buzz is not None:
        pulses = _pulses(args.buzz)
        shape = ", ".join(f"{on} on {off} off" for on, off in pulses)
        line, good = _result(f"buzz {shape} ms at intensity {args.intensity}",
                             link.command(lambda i: fp.Haptic(i, pulses, args.intensity, 1)))
        print(line, file=out)
        ok &= good
    if args.time_sync:
        a = link.command(lambda i: fp.TimeSync(i, time.time_ns() // 1000))
        line, good = _result("time sync", a)
        if good and a.ack is not None:
            _, device_t_us = fp.parse_time_sync_reply(a.ack.reply)
            offset_us = (a.sent_us + a.got_us) // 2 - device_t_us
            at = datetime.fromtimestamp(offset_us / 1e6, UTC).isoformat(timespec="milliseconds")
            line += (f": device clock 0 = host {at}, device at {device_t_us} us; round trip "
                     f"{(a.got_us - a.sent_us) / 1000:.1f} ms (the offset is good to half of it)")
        print(line, file=out)
        ok &= good
    return ok


def run(args: argparse.Namespace) -> int:
    from pathlib import Path

    import serial

    from monitor.config import ConfigError, load_config
    from monitor.sources.serial import port_finder

    if not 1 <= args.intensity <= 255 or (args.batch is not None and not 1 <= args.batch <= 84) or (
            args.rate is not None and not args.rate > 0) or not args.timeout > 0:
        print("posture device: --intensity 1..255, --batch 1..84, --rate and --timeout > 0", file=sys.stderr)
        return 2
    try:
        if args.buzz is not None:
            _pulses(args.buzz)
        cfg = load_config(Path(args.config) if args.config else None)
    except (ValueError, ConfigError) as err:
        print(f"posture device: {err}", file=sys.stderr)
        return 2
    if args.mqtt is not None:
        from monitor.commands._device_mqtt import talk_over_mqtt

        return talk_over_mqtt(args, cfg, lambda port: talk(DeviceLink(port, args.timeout), args, sys.stdout))
    if args.device is not None:
        print("posture device: --device goes with --mqtt (a serial port is one device)", file=sys.stderr)
        return 2
    d = cfg.device
    port = port_finder(args.serial or d.port, d.vid, d.pid, d.serial_number)()
    if port is None:
        print("posture device: no port: give --serial PORT, or [device] port or vid/pid in the config",
              file=sys.stderr)
        return 2
    try:
        with serial.Serial(port, d.baudrate, timeout=0.05, write_timeout=1.0) as ser:
            ok = talk(DeviceLink(SerialPort(ser), args.timeout), args, sys.stdout)
    except (serial.SerialException, OSError) as err:
        print(f"posture device: {port}: {err}", file=sys.stderr)
        return 2
    return 0 if ok else 1
