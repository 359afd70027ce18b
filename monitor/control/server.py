"""The control channel of a running `posture run`: a Unix socket private to the user, and its client.

    $POSTURE_CONTROL_SOCKET, else $XDG_RUNTIME_DIR/posture/control.sock, else
    <tmp>/posture-<uid>/control.sock (a directory created 0700 and refused if someone else owns it)

The socket is created with mode 0600 inside a 0700 directory, and a peer whose uid is not ours (Linux
SO_PEERCRED) is refused: only the user who runs the monitor can talk to it. It is never a network port.
Each connection sends request lines and gets one response line each (monitor.control.protocol); a bad or
oversized request gets an error response, a stuck client is dropped after `client_timeout_s`, and at most
`max_clients` are served at once: nothing a client does can stop the monitor.

A second monitor finds the socket answering and runs without a control channel (with a warning); a socket
file left by a monitor that was killed does not answer and is replaced.
"""

from __future__ import annotations

import contextlib
import logging
import os
import socket
import stat
import struct
import tempfile
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from monitor.control.controller import Controller
from monitor.control.protocol import (
    MAX_LINE_BYTES,
    ControlError,
    Request,
    decode_request,
    decode_response,
    encode_request,
    encode_response,
    error_response,
)
from monitor.private_files import private_dir

log = logging.getLogger("posture.control")


class MonitorNotRunning(ControlError):
    """Nobody listens on the control socket."""


def default_socket_path(env: Mapping[str, str] | None = None) -> Path:
    env = os.environ if env is None else env
    if env.get("POSTURE_CONTROL_SOCKET"):
        return Path(env["POSTURE_CONTROL_SOCKET"])
    run = env.get("XDG_RUNTIME_DIR")
    if run and Path(run).is_dir():
        return Path(run) / "posture" / "control.sock"
    return Path(tempfile.gettempdir()) / f"posture-{os.getuid()}" / "control.sock"


def _private_dir(d: Path) -> None:
    private_dir(d)  # a folder that already exists (/tmp/posture-<uid>) is checked below
    st = d.stat()
    if st.st_uid != os.getuid():
        raise ControlError(f"{d} belongs to another user: not using it for the control socket")
    if stat.S_IMODE(st.st_mode) & 0o077:
        os.chmod(d, 0o700)


def _peer_uid(conn: socket.socket) -> int | None:
    opt = getattr(socket, "SO_PEERCRED", None)
    if opt is None:  # not Linux: the 0700 directory and 0600 socket are the protection
        return None
    creds = conn.getsockopt(socket.SOL_SOCKET, opt, struct.calcsize("3i"))
    return int(struct.unpack("3i", creds)[1])


class ControlServer:
    """Serves a Controller on a Unix socket in a daemon thread. `start()`, then `close()`."""

    def __init__(self, controller: Controller, path: Path | None = None, max_clients: int = 8,
                 client_timeout_s: float = 5.0) -> None:
        self.controller = controller
        self.path = path or default_socket_path()
        self.client_timeout_s = client_timeout_s
        self._slots = threading.BoundedSemaphore(max_clients)
        self._sock: socket.socket | None = None
        self._thread: threading.Thread | None = None
        self._closed = threading.Event()
        self._ino: int | None = None
        self.bad_requests = 0  #: requests answered with a syntax error

    def start(self) -> None:
        _private_dir(self.path.parent)
        if self.path.exists() or self.path.is_symlink():
            try:
                request(Request("status"), self.path, timeout_s=2.0)
            except ControlError:  # nobody answers: left by a monitor that was killed
                self.path.unlink()
            else:
                raise ControlError(f"another monitor is already listening on {self.path}")
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        old = os.umask(0o177)
        try:
            sock.bind(str(self.path))
        finally:
            os.umask(old)
        os.chmod(self.path, 0o600)
        self._ino = self.path.stat().st_ino
        sock.listen(8)
        sock.settimeout(0.5)
        self._sock = sock
        self._thread = threading.Thread(target=self._serve, name="posture-control", daemon=True)
        self._thread.start()
        log.info("control socket %s (posture status / done / snooze / skip / pause / resume)", self.path)

    def _serve(self) -> None:
        assert self._sock is not None
        while not self._closed.is_set():
            try:
                conn, _ = self._sock.accept()
            except TimeoutError:
                continue
            except OSError:
                if self._closed.is_set():
                    return
                log.exception("control socket accept failed")
                continue
            if not self._slots.acquire(blocking=False):
                with contextlib.suppress(OSError):
                    conn.sendall(encode_response(error_response("too many clients; try again")))
                conn.close()
                continue
            threading.Thread(target=self._client, args=(conn,), name="posture-control-client",
                             daemon=True).start()

    def _client(self, conn: socket.socket) -> None:
        try:
            with conn:
                uid = _peer_uid(conn)
                if uid is not None and uid != os.getuid():
                    log.warning("control socket: refused a client of uid %d", uid)
                    return
                conn.settimeout(self.client_timeout_s)
                buf = b""
                while not self._closed.is_set():
                    nl = buf.find(b"\n")
                    if nl < 0:
                        if len(buf) > MAX_LINE_BYTES:
                            self.bad_requests += 1
                            conn.sendall(encode_response(error_response(
                                f"request longer than {MAX_LINE_BYTES} bytes")))
                            return
                        chunk = conn.recv(4096)
                        if not chunk:
                            return
                        buf += chunk
                        continue
                    line, buf = buf[:nl], buf[nl + 1:]
                    conn.sendall(encode_response(self.answer(line)))
        except OSError as err:  # a client that vanished or stalled
            log.debug("control client dropped: %s", err)
        finally:
            self._slots.release()

    def answer(self, line: bytes) -> dict[str, Any]:
        try:
            req = decode_request(line)
        except ControlError as err:
            self.bad_requests += 1
            return error_response(str(err))
        return self.controller.call(req, "socket")

    def close(self) -> None:
        self._closed.set()
        if self._sock is not None:
            self._sock.close()
            self._sock = None
            with contextlib.suppress(OSError):
                if self.path.stat().st_ino == self._ino:  # still ours, not a newer monitor's
                    self.path.unlink()
        if self._thread is not None:
            self._thread.join(timeout=5.0)
            self._thread = None


def request(req: Request, path: Path | None = None, timeout_s: float = 10.0) -> dict[str, Any]:
    """Send one request to the running monitor and return its response.
    MonitorNotRunning when nothing listens; ControlError on a broken answer."""
    path = path or default_socket_path()
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.settimeout(timeout_s)
    with sock:
        try:
            sock.connect(str(path))
        except (FileNotFoundError, ConnectionRefusedError) as err:
            raise MonitorNotRunning(f"no monitor is running (nothing listens on {path}: {err.strerror})") \
                from None
        except OSError as err:
            raise MonitorNotRunning(f"can not reach the monitor at {path}: {err}") from None
        try:
            sock.sendall(encode_request(req))
            buf = b""
            while b"\n" not in buf:
                chunk = sock.recv(65536)
                if not chunk:
                    raise ControlError("the monitor closed the connection without answering")
                buf += chunk
        except OSError as err:
            raise ControlError(f"talking to the monitor at {path} failed: {err}") from None
    return decode_response(buf.split(b"\n", 1)[0])


__all__ = ["ControlServer", "MonitorNotRunning", "default_socket_path", "request"]
