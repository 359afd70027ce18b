"""The command line's habits: --version, a bare `posture`, shell completion (in a real bash, and zsh when
installed), `posture ports` (the machine's USB enumeration faked, as tests/test_serial.py does)."""

from __future__ import annotations

import json
import os
import pty
import select
import shlex
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from serial.tools.list_ports_common import ListPortInfo

from monitor.cli import _COMMANDS, build_parser, main
from monitor.completion import bash_script, commands, zsh_script


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    from importlib.metadata import version

    with pytest.raises(SystemExit) as exc:
        main(["--version"])
    assert exc.value.code == 0
    assert capsys.readouterr().out.strip() == f"posture {version('posture-monitor')}"


def test_bare_posture_prints_a_short_usage_and_a_hint(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([]) == 0
    out = capsys.readouterr()
    assert out.out.startswith("usage: posture COMMAND") and "posture --help" in out.out
    assert "posture demo" in out.out and "error" not in out.out + out.err


def complete(script: str, line: str, tmp: Path) -> list[str]:
    """What a real bash offers after `line` (the cursor at its end), from the script's `complete -F`."""
    words = line.split(" ")
    probe = tmp / "probe.sh"
    quoted = " ".join(shlex.quote(w) for w in words)
    probe.write_text(script + "\n" + "\n".join([
        f"COMP_WORDS=({quoted})",
        f"COMP_CWORD={len(words) - 1}",
        f"COMP_LINE={shlex.quote(line)}; COMP_POINT=${{#COMP_LINE}}",
        'fn=$(complete -p posture | sed -E "s/.*-F ([^ ]+) .*/\\1/")',
        '"$fn" posture "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD-1]}"',
        'printf "%s\\n" "${COMPREPLY[@]}"']))
    res = subprocess.run(["bash", "--norc", "--noprofile", str(probe)], capture_output=True, text=True,
                         cwd=tmp, timeout=60, check=False)
    assert res.returncode == 0 and not res.stderr, res.stderr
    return [w for w in res.stdout.splitlines() if w]


def test_bash_completion_from_the_command_table(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["completion", "bash"]) == 0
    script = capsys.readouterr().out
    assert script == bash_script(build_parser())
    assert set(complete(script, "posture ", tmp_path)) >= set(_COMMANDS) | {"--version"}
    assert complete(script, "posture su", tmp_path) == ["summary"]
    assert set(complete(script, "posture summary --", tmp_path)) >= {"--db", "--json", "--html", "--date"}
    assert complete(script, "posture completion ", tmp_path) == ["bash", "zsh"]
    (tmp_path / "day.db").write_bytes(b"")
    assert "day.db" in complete(script, "posture summary --db d", tmp_path)  # a Path option: file names
    assert complete(script, "posture replay --speed ", tmp_path) == []  # a number: nothing to offer
    # a flag added to a command shows up without touching the completion code
    parser = build_parser()
    parser._subparsers._group_actions[0].choices["ports"].add_argument("--brand-new-flag")  # type: ignore
    assert "--brand-new-flag" in complete(bash_script(parser), "posture ports --b", tmp_path)


class ForeignBytes(Exception):
    """Something other than our zsh wrote into the pty."""


def zsh_offers(script: Path, line: str, zsh: str) -> set[str]:
    """What a real interactive zsh's completion system offers for `line` + TAB, with `script` loaded: the
    matches given to compadd, which a wrapper prints on the terminal (a pty) as "@@ match match ...".

    On a shared machine another program may open /dev/pts/N by its path (a monitor waiting for its serial
    device to come back) and write into our pty: binary bytes a zsh never prints. Then it is tried again
    on a new pty, up to three times."""
    for _ in range(3):
        try:
            return _zsh_offers_once(script, line, zsh)
        except ForeignBytes:
            continue
    raise AssertionError("three ptys in a row got bytes from another program")


def _zsh_offers_once(script: Path, line: str, zsh: str) -> set[str]:
    master, slave = pty.openpty()
    proc = subprocess.Popen([zsh, "-f", "-i"], stdin=slave, stdout=slave, stderr=slave, close_fds=True,
                            env={"TERM": "dumb", "HOME": str(script.parent), "PATH": os.environ["PATH"]})
    os.close(slave)
    out = b""

    def read_until(marker: bytes, start: int) -> None:
        nonlocal out
        deadline = time.monotonic() + 60.0
        while marker not in out[start:]:
            assert time.monotonic() < deadline, out[-2000:]
            ready, _, _ = select.select([master], [], [], 1.0)
            if ready:
                out += os.read(master, 65536)
                if b"\x00" in out:
                    raise ForeignBytes

    try:
        os.write(master, ("PROMPT=''; autoload -U compinit; compinit -u -D; source " + str(script) + "\n"
                          "compadd() { local -a m; if (( ! ${@[(I)-[OAD]]} )); then builtin compadd -O m \"$@\"; "
                          "print -r -- \"@@ ${(j: :)m}\"; fi; builtin compadd \"$@\" }\n"
                          "print READY''\n").encode())
        read_until(b"READY\r", 0)
        mark = len(out)
        os.write(master, (line + "\t").encode())
        read_until(b"@@", mark)
        os.write(master, b"\x15print DONE''\n")  # Ctrl-U empties the line, then a marker
        read_until(b"DONE\r", mark)
    finally:
        os.close(master)
        proc.kill()
        proc.wait(timeout=60)
    text = out[mark:].decode(errors="replace")
    return {w for ln in text.splitlines() if "@@ " in ln for w in ln.split("@@ ", 1)[1].split()}


def test_zsh_completion(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["completion", "zsh"]) == 0
    script = capsys.readouterr().out
    assert script.startswith("#compdef posture") and script == zsh_script(build_parser())
    for c in commands(build_parser()):
        assert f"\n        {c.name}) _arguments " in script
    zsh = shutil.which("zsh")
    if zsh is None:
        pytest.skip("zsh is not installed (.ci/run installs it): only the script's shape was checked")
    path = tmp_path / "_posture"
    path.write_text(script)
    res = subprocess.run([zsh, "-n", str(path)], capture_output=True, text=True, timeout=60, check=False)
    assert res.returncode == 0, res.stderr
    # in a real interactive zsh with compinit, as a user's TAB would
    assert zsh_offers(path, "posture su", zsh) == {"summary"}
    assert zsh_offers(path, "posture summary --", zsh) >= {"--db", "--json", "--html", "--date", "--help"}
    assert zsh_offers(path, "posture completion ", zsh) == {"bash", "zsh"}
    assert zsh_offers(path, "posture ports --j", zsh) == {"--json"}


def _usb(path: str, vid: int | None, pid: int | None, sn: str | None, desc: str = "n/a") -> ListPortInfo:
    info = ListPortInfo(path, skip_link_detection=True)
    info.vid, info.pid, info.serial_number, info.description = vid, pid, sn, desc
    return info


@pytest.fixture
def ports(monkeypatch: pytest.MonkeyPatch) -> None:
    # the machine's USB enumeration is the outside world's hardware: faked
    from serial.tools import list_ports

    found = [_usb("/dev/ttyUSB0", 0x0403, 0x6001, "FT123", "FT232R USB UART"),
             _usb("/dev/ttyACM0", 0x303A, 0x1001, "AA:BB:CC", "USB JTAG/serial debug unit"),
             _usb("/dev/ttyACM1", 0x303A, 0x4001, "MINE-0001", "Posture sensor"),
             _usb("/dev/ttyS0", None, None, None)]
    monkeypatch.setattr(list_ports, "comports", lambda *a, **k: found)


def test_ports_lists_ids_and_marks_likely_devices(ports: None, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["ports"]) == 0
    out = capsys.readouterr().out
    lines = {ln[2:].split()[0]: ln for ln in out.splitlines() if ln[2:7] == "/dev/"}
    assert set(lines) == {"/dev/ttyUSB0", "/dev/ttyACM0", "/dev/ttyACM1", "/dev/ttyS0"}
    assert lines["/dev/ttyACM1"].startswith("? ") and "303a:4001" in lines["/dev/ttyACM1"]
    assert "MINE-0001" in lines["/dev/ttyACM1"] and "[Espressif]" in lines["/dev/ttyACM1"]
    assert lines["/dev/ttyUSB0"].startswith("~ ") and "0403:6001" in lines["/dev/ttyUSB0"]
    assert lines["/dev/ttyS0"].startswith("  ")
    assert "vid = 0x303A" in out and "plug the board in" in out


def test_ports_marks_the_configured_device(ports: None, tmp_path: Path,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    cfg = tmp_path / "config.toml"
    cfg.write_text('[device]\nvid = 0x303A\npid = 0x4001\nserial_number = "MINE-0001"\n')
    assert main(["ports", "--json", "--config", str(cfg)]) == 0
    rows = {r["device"]: r for r in json.loads(capsys.readouterr().out)}
    assert rows["/dev/ttyACM1"]["mark"] == "configured" and rows["/dev/ttyACM0"]["mark"] == "likely"
    assert rows["/dev/ttyACM1"]["vid_pid"] == "303a:4001" and rows["/dev/ttyS0"]["vid_pid"] is None
    cfg.write_text("[device]\nvid = 'x'\n")
    assert main(["ports", "--config", str(cfg)]) == 2
    assert "vid" in capsys.readouterr().err


def test_the_entry_point_runs(tmp_path: Path) -> None:
    res = subprocess.run([sys.executable, "-m", "monitor", "--version"], capture_output=True, text=True,
                         timeout=120, check=False)
    assert res.returncode == 0 and res.stdout.startswith("posture ")
