"""A live status line for long work: redrawn in place on a terminal, a few plain lines otherwise.

    with Progress("fusing", total=n) as p:
        for chunk in chunks:
            ...
            p.advance(len(chunk))

It redraws at most every `interval_s` (default 0.2 s), so calling it per chunk costs nothing measurable.
"""

from __future__ import annotations

import sys
import time
from types import TracebackType
from typing import TextIO


class Progress:
    def __init__(self, label: str, total: float | None = None, unit: str = "", stream: TextIO | None = None,
                 interval_s: float = 0.2, enabled: bool = True) -> None:
        self.label = label
        self.total = total
        self.unit = unit
        self.stream = stream if stream is not None else sys.stderr
        self.done = 0.0
        self.interval_s = interval_s
        self.enabled = enabled
        self._tty = bool(getattr(self.stream, "isatty", lambda: False)())
        self._t0 = time.monotonic()
        self._last = 0.0
        self._last_pct = -1
        self._extra = ""

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, et: type[BaseException] | None, ev: BaseException | None, tb: TracebackType | None) -> None:
        self.close()

    def advance(self, amount: float = 1.0, extra: str | None = None) -> None:
        self.update(self.done + amount, extra)

    def update(self, done: float, extra: str | None = None) -> None:
        self.done = done
        if extra is not None:
            self._extra = extra
        if not self.enabled:
            return
        now = time.monotonic()
        if now - self._last < self.interval_s:
            return
        self._last = now
        if self._tty:
            self.stream.write("\r\x1b[K" + self._line())
            self.stream.flush()
        elif self.total:  # not a terminal: a line every 10 %
            pct = int(100 * self.done / self.total) // 10 * 10
            if pct > self._last_pct:
                self._last_pct = pct
                self.stream.write(self._line() + "\n")
                self.stream.flush()

    def _line(self) -> str:
        elapsed = time.monotonic() - self._t0
        if self.total:
            frac = min(1.0, self.done / self.total) if self.total else 0.0
            width = 24
            bar = "#" * int(frac * width) + "-" * (width - int(frac * width))
            eta = f" eta {elapsed / frac - elapsed:4.0f}s" if 0.02 < frac < 1 else ""
            text = f"{self.label} [{bar}] {100 * frac:5.1f}%{eta}"
        else:
            text = f"{self.label}: {self.done:,.0f}{self.unit} ({elapsed:.0f}s)"
        return text + (f"  {self._extra}" if self._extra else "")

    def close(self) -> None:
        if self.enabled and self._tty:
            self.stream.write("\r\x1b[K")
            self.stream.flush()
