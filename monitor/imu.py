"""IMU sample batches and the CSV interchange format.

A batch is three plain arrays in SI units, never a list of objects:

    t_s  (N,)   float64  seconds on the device's unwrapped timeline
    acc  (N, 3) float64  m/s^2, sensor frame (specific force: +9.81 on the axis pointing up at rest)
    gyr  (N, 3) float64  rad/s, sensor frame

The CSV interchange format (recordings/README.md) is a header row `t_s,ax,ay,az,gx,gy,gz` followed by one
sample per row in those units. `read_csv` reports a bad row with its line number (`CsvError.line`).
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

import numpy as np

CSV_COLUMNS = ("t_s", "ax", "ay", "az", "gx", "gy", "gz")
#: plausibility bounds of a CSV row: far beyond any IMU (16 g is 157 m/s^2, 2000 dps is 35 rad/s), but small
#: enough that nothing downstream overflows
MAX_ACC_M_S2 = 1e4
MAX_GYR_RAD_S = 1e3
#: a row more than this after the previous one is refused: a week's gap is a recording's limit, and a
#: 1e15 s jump would have the pipeline allocate arrays over the whole span
MAX_GAP_S = 7 * 86400.0
#: |t_s| above this (about 317 years) is no timeline
MAX_T_S = 1e10
#: a CSV row is seven numbers: a line this long is no row (the csv module's own limit is 128 KiB)
MAX_LINE_CHARS = 4096


@dataclass(frozen=True, slots=True)
class ImuSamples:
    """A batch of IMU samples in SI units, sensor frame."""

    t_s: np.ndarray  #: (N,) seconds, increasing
    acc: np.ndarray  #: (N, 3) m/s^2
    gyr: np.ndarray  #: (N, 3) rad/s

    def __post_init__(self) -> None:
        n = len(self.t_s)
        if self.acc.shape != (n, 3) or self.gyr.shape != (n, 3):
            raise ValueError(f"shape mismatch: t_s {self.t_s.shape}, acc {self.acc.shape}, gyr {self.gyr.shape}")

    def __len__(self) -> int:
        return len(self.t_s)

    @classmethod
    def empty(cls) -> ImuSamples:
        return cls(np.zeros(0), np.zeros((0, 3)), np.zeros((0, 3)))

    @classmethod
    def concatenate(cls, parts: list[ImuSamples]) -> ImuSamples:
        if not parts:
            return cls.empty()
        return cls(
            np.concatenate([p.t_s for p in parts]),
            np.concatenate([p.acc for p in parts]),
            np.concatenate([p.gyr for p in parts]),
        )

    def slice_time(self, start_s: float, end_s: float) -> ImuSamples:
        """The samples with start_s <= t_s < end_s."""
        i0, i1 = np.searchsorted(self.t_s, [start_s, end_s], side="left")
        return ImuSamples(self.t_s[i0:i1], self.acc[i0:i1], self.gyr[i0:i1])


class CsvError(ValueError):
    """A CSV interchange file that can not be read; `line` is 1-based (the header is line 1)."""

    def __init__(self, message: str, line: int | None = None) -> None:
        self.line = line
        super().__init__(f"line {line}: {message}" if line is not None else message)


@dataclass
class CsvReport:
    """What a lenient read skipped: a count of bad rows and the first few messages (bounded)."""

    bad_rows: int = 0
    messages: list[str] = field(default_factory=list)
    max_messages: int = 20

    def add(self, err: CsvError) -> None:
        self.bad_rows += 1
        if len(self.messages) < self.max_messages:
            self.messages.append(str(err))


def iter_csv_chunks(
    source: str | Path | IO[str], chunk_rows: int = 65536, report: CsvReport | None = None
) -> Iterator[ImuSamples]:
    """Read the CSV interchange format in chunks of at most `chunk_rows` samples.

    Without `report`, the first bad row raises CsvError naming its line. With one, bad rows are skipped and
    counted in it (a bad header still raises: nothing after it can be trusted).
    """
    own = not hasattr(source, "read")
    fh: IO[str] = open(source, newline="", encoding="utf-8") if own else source  # type: ignore[arg-type,assignment]
    try:
        reader = csv.reader(fh)
        try:
            header = next(reader)
        except StopIteration:
            raise CsvError("empty file: expected the header t_s,ax,ay,az,gx,gy,gz", 1) from None
        if tuple(h.strip() for h in header) != CSV_COLUMNS:
            raise CsvError(f"header is {','.join(header)!r}, expected {','.join(CSV_COLUMNS)!r}", 1)
        rows: list[list[float]] = []
        last_t = -math.inf
        for line_no, row in _rows(reader, fh, report):
            if not row or (len(row) == 1 and not row[0].strip()):
                continue
            try:
                values = _parse_row(row, line_no, last_t)
            except CsvError as err:
                if report is None:
                    raise
                report.add(err)
                continue
            last_t = values[0]
            rows.append(values)
            if len(rows) >= chunk_rows:
                yield _to_samples(rows)
                rows = []
        if rows:
            yield _to_samples(rows)
    except UnicodeDecodeError as err:
        raise CsvError(f"not a text file ({err.reason})") from err
    finally:
        if own:
            fh.close()


def _rows(reader: Iterator[list[str]], fh: IO[str], report: CsvReport | None) -> Iterator[tuple[int, list[str]]]:
    """(line number, row) pairs; a line too long to be a row is a CsvError (or skipped into `report`)."""
    line_no = 1
    while True:
        line_no += 1
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as err:  # e.g. "field larger than field limit (131072)"
            bad = CsvError(f"a line that is no row ({err})", line_no)
            if report is None:
                raise bad from None
            report.add(bad)
            continue
        if sum(len(v) for v in row) > MAX_LINE_CHARS:
            bad = CsvError(f"a line of {sum(len(v) for v in row)} characters is no row", line_no)
            if report is None:
                raise bad
            report.add(bad)
            continue
        yield line_no, row


def _parse_row(row: list[str], line_no: int, last_t: float) -> list[float]:
    if len(row) != 7:
        raise CsvError(f"expected 7 fields, got {len(row)}", line_no)
    try:
        values = [float(v) for v in row]
    except ValueError:
        raise CsvError(f"not a number in {','.join(row)!r}", line_no) from None
    if not all(math.isfinite(v) for v in values):
        raise CsvError(f"non-finite value in {','.join(row)!r}", line_no)
    t = values[0]
    if t <= last_t:
        raise CsvError(f"t_s does not increase ({t} after {last_t})", line_no)
    if abs(t) > MAX_T_S or (math.isfinite(last_t) and t - last_t > MAX_GAP_S):
        raise CsvError(f"t_s jumps from {last_t} to {t} (more than {MAX_GAP_S:.0f} s)", line_no)
    if max(map(abs, values[1:4])) > MAX_ACC_M_S2 or max(map(abs, values[4:7])) > MAX_GYR_RAD_S:
        raise CsvError(f"implausible value in {','.join(row)!r} (|acc| <= {MAX_ACC_M_S2:g} m/s^2, "
                       f"|gyr| <= {MAX_GYR_RAD_S:g} rad/s)", line_no)
    return values


def _to_samples(rows: list[list[float]]) -> ImuSamples:
    a = np.asarray(rows, dtype=np.float64)
    return ImuSamples(a[:, 0].copy(), a[:, 1:4].copy(), a[:, 4:7].copy())


def read_csv(source: str | Path | IO[str], report: CsvReport | None = None) -> ImuSamples:
    """Read a whole CSV interchange file (see iter_csv_chunks for `report`)."""
    return ImuSamples.concatenate(list(iter_csv_chunks(source, report=report)))


def write_csv(dest: str | Path | IO[str], samples: ImuSamples) -> None:
    """Write the CSV interchange format (header + one row per sample, %.9g)."""
    own = not hasattr(dest, "write")
    fh: IO[str] = open(dest, "w", newline="", encoding="utf-8") if own else dest  # type: ignore[arg-type,assignment]
    try:
        fh.write(",".join(CSV_COLUMNS) + "\n")
        block = np.column_stack([samples.t_s, samples.acc, samples.gyr])
        buf = io.StringIO()
        np.savetxt(buf, block, fmt="%.9g", delimiter=",")
        fh.write(buf.getvalue())
    finally:
        if own:
            fh.close()
