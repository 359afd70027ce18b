"""`posture ports [--json] [--config FILE]`: the serial ports, with USB VID:PID and serial number.

A port is marked "configured" when it matches [device] vid/pid/serial_number in the config (the one
`posture run --serial` would open), "likely" when its vendor makes microcontroller boards with native USB
(where a posture sensor's firmware usually runs), and "adapter" for a USB-serial bridge chip (a board
behind one shows the bridge's ids). To find a board's ids: run it unplugged, plug the board in, run it again.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

HELP = "list serial ports with USB VID:PID and serial number, likely posture sensors marked"

#: USB vendor ids of boards with native USB serial (the firmware's own CDC port)
BOARD_VENDORS = {0x303A: "Espressif", 0x2E8A: "Raspberry Pi", 0x239A: "Adafruit", 0x2341: "Arduino",
                 0x1915: "Nordic", 0x0483: "STMicroelectronics", 0x2886: "Seeed", 0x1209: "pid.codes"}
#: USB-serial bridge chips that sit in front of many boards
ADAPTER_VENDORS = {0x0403: "FTDI", 0x10C4: "Silicon Labs CP210x", 0x1A86: "WCH CH34x", 0x067B: "Prolific"}


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--json", action="store_true", help="print a JSON list (one object per port)")
    p.add_argument("--config", type=Path, help="TOML config file whose [device] ids mark the configured port")


def port_rows(vid: int | None = None, pid: int | None = None,
              serial_number: str | None = None) -> list[dict[str, Any]]:
    """One dict per serial port the system lists, sorted by path, with its mark."""
    from serial.tools import list_ports

    rows = []
    for p in sorted(list_ports.comports(), key=lambda p: p.device):
        usb = p.vid is not None and p.pid is not None
        configured = (usb and (vid is not None or pid is not None or bool(serial_number))
                      and (vid is None or p.vid == vid) and (pid is None or p.pid == pid)
                      and (not serial_number or p.serial_number == serial_number))
        if configured:
            mark = "configured"
        elif usb and p.vid in BOARD_VENDORS:
            mark = "likely"
        elif usb and p.vid in ADAPTER_VENDORS:
            mark = "adapter"
        else:
            mark = ""
        rows.append({"device": p.device, "vid": p.vid, "pid": p.pid,
                     "vid_pid": f"{p.vid:04x}:{p.pid:04x}" if usb else None,
                     "serial_number": p.serial_number, "manufacturer": p.manufacturer, "product": p.product,
                     "description": p.description if p.description != "n/a" else None,
                     "vendor": BOARD_VENDORS.get(p.vid or -1) or ADAPTER_VENDORS.get(p.vid or -1), "mark": mark})
    return rows


def text_table(rows: list[dict[str, Any]]) -> str:
    if not rows:
        return "no serial ports found (is the board plugged in, and are you in the dialout group?)"
    lines = [f"{'':2}{'PORT':<22}{'VID:PID':<11}{'SERIAL':<22}DESCRIPTION"]
    for r in rows:
        star = {"configured": "* ", "likely": "? ", "adapter": "~ "}.get(r["mark"], "  ")
        what = " ".join(x for x in (r["vendor"] and f"[{r['vendor']}]", r["description"] or r["product"]) if x)
        lines.append(f"{star}{r['device']:<22}{r['vid_pid'] or '-':<11}{r['serial_number'] or '-':<22}{what}")
    lines.append("")
    lines.append("* matches [device] in the config   ? a board with native USB   ~ a USB-serial adapter")
    best = next((r for r in rows if r["mark"] in ("configured", "likely")), None)
    if best and best["mark"] == "likely":
        sn = f'\nserial_number = "{best["serial_number"]}"' if best["serial_number"] else ""
        lines.append(f"to use {best['device']} by its ids, put in config.toml:\n[device]\nvid = 0x{best['vid']:04X}\n"
                     f"pid = 0x{best['pid']:04X}{sn}")
    lines.append("not sure which is yours? run this unplugged, plug the board in, run it again: the new line is it")
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    from monitor.config import ConfigError, load_config

    try:
        dev = load_config(args.config).device
    except ConfigError as err:
        print(f"posture ports: {err}", file=sys.stderr)
        return 2
    rows = port_rows(dev.vid, dev.pid, dev.serial_number)
    print(json.dumps(rows, indent=2) if args.json else text_table(rows))
    return 0
