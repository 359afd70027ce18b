"""Alert latency beyond the detector's own hold time, through the live serial path. Bar: p99 <= 50 ms.

The virtual device plays a scenario of many short leans on a pseudo-terminal, time-compressed (`--speed`),
as `posture simulate --serial` does; the monitor reads it with the real SerialSource and Service (decoder,
per-device pipeline, sinks). For every alert, the latency is

    (wall time the alert left the pipeline) - (wall time the serial reader received the sample at alert.t_s)

i.e. everything the monitor adds after the sample that completed the hold arrived: queueing, decoding,
fusion, detection, alert policy. The detector's hold (here 10 s, to get many alerts per simulated hour)
and its smoothing are not in it; they are reported separately in device time as
`alert.t_s - (lean onset + hold)`, from the simulator's labels. Time compression makes the monitor work
`speed` times harder than live, so the figure is conservative.

    .venv/bin/python bench/latency.py [--leans 30] [--speed 25] [--odr 100]
"""

from __future__ import annotations

import argparse
import sys
import threading
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from monitor.detect.episodes import LeanParams  # noqa: E402
from monitor.events import Alert  # noqa: E402
from monitor.pipeline.alerts import AlertPolicyParams  # noqa: E402
from monitor.pipeline.config import PipelineConfig  # noqa: E402
from monitor.pipeline.core import Pipeline  # noqa: E402
from monitor.service.core import Service  # noqa: E402
from monitor.service.gather import HOLD_S as GATHER_HOLD_S  # noqa: E402
from monitor.service.session import ServiceOptions  # noqa: E402
from monitor.sim import Simulator, scenario_from_dict  # noqa: E402
from monitor.sim.device import VirtualDevice  # noqa: E402
from monitor.sim.links import PtyLink, play_pty  # noqa: E402
from monitor.sources.base import Item, Received  # noqa: E402
from monitor.sources.serial import SerialSource  # noqa: E402

HOLD_S = 10.0
BAR_P99_MS = 50.0
GATHER_BAR_MS = 250.0  #: issue 17: p99 beyond the service's hold


def scenario(leans: int) -> dict[str, object]:
    seg: list[dict[str, object]] = [{"do": "calibrate"}, {"do": "sit", "minutes": 2, "shifts": False}]
    for k in range(leans):
        seg.append({"do": "lean", "side": "right" if k % 2 == 0 else "left", "deg": 15, "seconds": 25,
                    "ramp_s": 1.0, "wobble_deg": 0.3})
        seg.append({"do": "sit", "seconds": 20, "shifts": False})
    return {"name": "latency", "start_posture": "sit", "seed": 5, "segment": seg}


class StampedSerial(SerialSource):
    """The serial source, noting when each delivery reached the service's queue (= arrived)."""

    def __init__(self, *a: object, **kw: object) -> None:
        super().__init__(*a, **kw)  # type: ignore[arg-type]
        self.arrivals: list[tuple[float, float]] = []  # (last sample t_s in it, wall time)

    def _put(self, item: Item) -> None:
        if isinstance(item, Received):
            ends = [float(e.times_us()[-1]) / 1e6 for e in item.events if hasattr(e, "times_us")]
            if ends:
                self.arrivals.append((max(ends), time.monotonic()))
        super()._put(item)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--leans", type=int, default=30)
    ap.add_argument("--speed", type=float, default=25.0)
    ap.add_argument("--odr", type=float, default=100.0)
    ap.add_argument("--hold", type=float, default=GATHER_HOLD_S,
                    help=f"the service's hold before the pipeline, s (posture run's: {GATHER_HOLD_S})")
    args = ap.parse_args()

    sim = Simulator(scenario_from_dict(scenario(args.leans)), odr_hz=args.odr)
    dev = VirtualDevice(sim.chunks(5.0), sim.odr_hz, batch_size=10, seed=1)
    link = PtyLink()
    stop = threading.Event()
    player = threading.Thread(target=play_pty, args=(dev, link), kwargs={"speed": args.speed, "stop": stop,
                                                                         "tick_s": 0.002}, daemon=True)
    src = StampedSerial(lambda: link.path, handshake_timeout_s=0.2)
    cfg = PipelineConfig(lean=LeanParams(hold_s=HOLD_S),
                         alerts=AlertPolicyParams(work_hours=None, quiet_hours=None, lean_min_interval_s=0.0,
                                                  daily_cap=100_000, lean_budget=100_000))  # every lean
    alerts: list[tuple[Alert, float]] = []
    lag_s: list[float] = []  # device time processed past alert.t_s when the alert came out
    svc = Service(src, lambda d, t0: Pipeline(cfg, None, None), [],
                  ServiceOptions(poll_s=0.05, duration_s=sim.duration_s / args.speed + 10.0,
                                 hold_s=args.hold))

    def on_event(device_id: str, ev: object) -> None:
        if isinstance(ev, Alert) and ev.alert_kind == "lean":
            alerts.append((ev, time.monotonic()))
            last = svc.sessions[device_id].last_t_s
            lag_s.append((last or ev.t_s) - ev.t_s)

    svc.on_event = on_event
    player.start()
    t0 = time.monotonic()
    def stop_when_played() -> None:
        player.join()
        time.sleep(1.0)  # the last bytes in flight
        svc.stop("done")

    threading.Thread(target=stop_when_played, daemon=True).start()
    svc.run()
    stop.set()
    link.close()
    wall = time.monotonic() - t0

    arr_t = np.array([a[0] for a in src.arrivals])
    arr_w = np.array([a[1] for a in src.arrivals])
    lat_ms, live_ms, later = [], [], 0
    for (ev, w), lag in zip(alerts, lag_s, strict=True):
        i = int(np.searchsorted(arr_t, ev.t_s - 1e-9))  # the delivery with the sample that completed the hold
        j = int(np.searchsorted(arr_t, ev.t_s + lag - 1e-9))  # the delivery being processed when it came out
        if j >= len(arr_t):
            continue
        lat_ms.append((w - arr_w[i]) * 1e3)
        # live, deliveries arrive at device pace: waiting for a later one costs its device time in full
        live_ms.append((w - arr_w[j]) * 1e3 + (arr_t[j] - arr_t[i]) * 1e3 * (j > i))
        later += j > i
    onsets = [lb.start_s for lb in sim.labels if lb.kind == "lean"]
    decision = []
    for ev, _ in alerts:
        before = [s for s in onsets if s <= ev.t_s]
        if before:
            decision.append(ev.t_s - (before[-1] + HOLD_S))
    lat = np.array(lat_ms)
    live = np.array(live_ms)
    print(f"scenario: {args.leans} leans of 15 deg for 25 s, {sim.duration_s / 60:.0f} min at "
          f"{sim.odr_hz:g} Hz, played {args.speed:g}x over a pty in {wall:.0f} s")
    n = sum(s.samples for s in svc.sessions.values())
    print(f"lean alerts: {len(alerts)} of {args.leans}; samples {n:,}, lost {src.decoder.stats.lost_samples}")
    if not len(lat):
        print("no alerts: nothing to measure")
        return 1
    p50, p99 = np.percentile(lat, [50, 99])
    live_p50, live_p99 = np.percentile(live, [50, 99])
    print(f"measured (sample arrival -> alert out, {args.speed:g}x load): p50 {p50:.1f} ms, "
          f"p99 {p99:.1f} ms, max {lat.max():.1f} ms")
    print(f"alerts that needed a later delivery than their triggering sample's: {later} of {len(lat)}")
    if args.hold > 0:
        # live, the hold releases a device's samples at most hold s after the first of them arrived; the live
        # estimate counts the device time of every later delivery gathered with the triggering one in full
        beyond = max(p99, live_p99) - args.hold * 1e3
        print(f"latency with the service's hold {args.hold:g} s (monitor/service/gather.py), live estimate: p50 "
              f"{live_p50:.1f} ms, p99 {live_p99:.1f} ms; p99 beyond the hold {beyond:.1f} ms (bar <= "
              f"{GATHER_BAR_MS:.0f} ms: {'PASS' if beyond <= GATHER_BAR_MS else 'FAIL'})")
    else:
        print(f"latency beyond the hold, live estimate: p50 {live_p50:.1f} ms, p99 {live_p99:.1f} ms  "
              f"(bar p99 <= {BAR_P99_MS:.0f} ms: {'PASS' if live_p99 <= BAR_P99_MS else 'FAIL'})")
    if decision:
        d = np.array(decision)
        print(f"detector decision in device time, alert.t_s - (lean onset + hold {HOLD_S:g} s): "
              f"median {np.median(d):.2f} s, max {d.max():.2f} s (the ramp to the threshold and smoothing)")
    return 0 if live_p99 <= BAR_P99_MS else 1


if __name__ == "__main__":
    sys.exit(main())
