"""What ships beside the code: the licence, the systemd unit and the udev rule, as the README shows them."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_license_is_mit_in_the_spdx_form() -> None:
    py = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert py["project"]["license"] == "MIT" and py["project"]["license-files"] == ["LICENSE"]
    # license-files needs setuptools 77 (PEP 639)
    req = next(r for r in py["build-system"]["requires"] if r.startswith("setuptools"))
    assert int(re.search(r">=(\d+)", req).group(1)) >= 77  # type: ignore[union-attr]
    text = (ROOT / "LICENSE").read_text(encoding="utf-8")
    assert text.startswith("MIT License") and "WITHOUT WARRANTY OF ANY KIND" in text


def test_the_readme_shows_the_shipped_systemd_unit() -> None:
    unit = (ROOT / "packaging/systemd/posture.service").read_text(encoding="utf-8")
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert unit in readme
    keys = dict(ln.split("=", 1) for ln in unit.splitlines() if "=" in ln and not ln.startswith("#"))
    # exit 2 is a configuration error (monitor.commands.run): restarting can not fix it
    assert keys["Restart"] == "on-failure" and keys["RestartPreventExitStatus"] == "2"
    assert "posture run" in keys["ExecStart"]


_UDEV_PAIR = re.compile(r'([A-Z_]+(?:\{[^}]+\})?)(==|!=|\+=|-=|:=|=)"([^"]*)"')


def test_the_udev_rule_matches_the_board_and_is_documented() -> None:
    path = ROOT / "packaging/udev/70-posture.rules"
    rules = [ln for ln in path.read_text(encoding="utf-8").splitlines() if ln.strip() and not ln.startswith("#")]
    assert len(rules) == 1
    pairs = [m.groups() for m in _UDEV_PAIR.finditer(rules[0])]
    assert ", ".join(f"{k}{op}\"{v}\"" for k, op, v in pairs) == rules[0]  # nothing but well-formed pairs
    got = {k: (op, v) for k, op, v in pairs}
    assert got["SUBSYSTEM"] == ("==", "tty")
    assert re.fullmatch(r"[0-9a-f]{4}", got["ATTRS{idVendor}"][1]) and got["ATTRS{idVendor}"][0] == "=="
    assert re.fullmatch(r"[0-9a-f]{4}", got["ATTRS{idProduct}"][1])
    assert got["TAG"] == ("+=", "uaccess") and got["MODE"] == ("=", "0660")
    assert "packaging/udev/70-posture.rules" in (ROOT / "README.md").read_text(encoding="utf-8")
