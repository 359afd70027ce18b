"""Kind and rare (issue 12): holds reported once with their reason, stale samples, stretch reminders that
say morning or evening and close when the routine is done, the low-battery nudge, and the day summary's
responses and holds in a real SQLite file and the HTML (rendered by a real headless Chromium)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from monitor.detect.sedentary import SedentaryParams
from monitor.events import Alert, AlertResponse, AlertResponseEvent, HeldAlert, StretchRoutine
from monitor.imu import ImuSamples
from monitor.pipeline.alerts import AlertPolicyParams
from monitor.pipeline.config import PipelineConfig
from monitor.pipeline.core import Pipeline
from monitor.pipeline.held import HeldLog
from monitor.report.html import render_day
from monitor.report.store import Database
from monitor.sim import Simulator, scenario_from_toml
from monitor.sinks.sqlite import SqliteSink
from tests.scenario_text import scenario_toml, segments
from tests.test_pipeline import ODR, profile_for, short_day
from tests.test_report_html import chromium, needs_chromium

SATURDAY_10 = datetime(2026, 11, 28, 10, 0, tzinfo=UTC).timestamp()
MONDAY_8 = datetime(2026, 11, 23, 8, 0, tzinfo=UTC).timestamp()


def of(events: list, cls: type) -> list:
    return [e for e in events if isinstance(e, cls)]


def feed(pipe: Pipeline, chunk, step: int = 25) -> list:
    events: list = []
    for i in range(0, len(chunk.t_s), step):
        events += pipe.process(ImuSamples(chunk.t_s[i:i + step], chunk.acc[i:i + step], chunk.gyr[i:i + step]))
    return events + pipe.finish()


def test_a_hold_is_reported_once_per_kind_and_reason() -> None:
    log = HeldLog()
    assert log.note("sedentary", "outside work hours", 1.0) == HeldAlert(1.0, "sedentary", "outside work hours")
    assert log.note("sedentary", "outside work hours", 2.0) is None  # offered again every hop: once
    assert log.note("lean", "outside work hours", 2.0) is not None  # another kind
    assert log.note("sedentary", "over budget", 3.0) is not None  # another reason
    assert log.note("sedentary", "snoozed", 3.0) is None  # the wearer's answer, not a hold
    log.clear("sedentary")  # delivered or re-armed
    assert log.note("sedentary", "outside work hours", 4.0) is not None
    assert log.counts == {"outside work hours": 3, "over budget": 1}


def _sitting_config(**alerts) -> PipelineConfig:
    return PipelineConfig(alerts=AlertPolicyParams(**alerts), state_interval_s=0.0,
                          sedentary=SedentaryParams(alert_after_s=60.0, repeat_s=30.0))


def test_on_a_saturday_the_due_reminders_are_held_once_each_not_every_second() -> None:
    sim, chunk = short_day()
    pipe = Pipeline(_sitting_config(), profile_for(sim, chunk), wall_offset_s=SATURDAY_10 - chunk.t_s[0], tz=UTC)
    events = feed(pipe, chunk)
    held = of(events, HeldAlert)
    assert not of(events, Alert)
    assert held and all(h.reason == "outside work hours" for h in held)
    # the short day has two sitting bouts around its walk and a lean: at most one hold per kind and bout
    assert sorted(h.alert_kind for h in held) in (["lean", "sedentary", "sedentary"], ["lean", "sedentary"])


def test_alerts_from_samples_older_than_two_minutes_are_held_as_stale() -> None:
    sim, chunk = short_day()
    start = MONDAY_8 + 2 * 3600.0 - chunk.t_s[0]

    def run(lag_s: float) -> list:
        pipe = Pipeline(_sitting_config(), profile_for(sim, chunk), wall_offset_s=start, tz=UTC,
                        now_wall=lambda: pipe._t_prev + start + lag_s)  # the wall clock lag_s after the samples
        return feed(pipe, chunk)

    fresh, late = run(5.0), run(600.0)
    assert of(fresh, Alert) and not of(fresh, HeldAlert)
    assert not of(late, Alert)
    assert {h.reason for h in of(late, HeldAlert)} == {"stale samples"}
    assert {h.alert_kind for h in of(late, HeldAlert)} == {a.alert_kind for a in of(fresh, Alert)}


STRETCH_DAY = scenario_toml("stretch-late", 5, segments("calibrate", "sit seconds=700", "stretch rounds=3",
                                                          "sit seconds=60"))


def test_the_stretch_reminder_says_morning_and_the_routine_closes_it() -> None:
    sim = Simulator(scenario_from_toml(STRETCH_DAY), odr_hz=ODR)
    chunk = sim.run()
    cfg = PipelineConfig(state_interval_s=0.0)  # defaults: the morning reminder 10 min after the start of wear
    pipe = Pipeline(cfg, profile_for(sim, chunk), wall_offset_s=MONDAY_8 - chunk.t_s[0], tz=UTC)
    events = feed(pipe, chunk)
    reminders = [a for a in of(events, Alert) if a.alert_kind == "stretch_reminder"]
    assert len(reminders) == 1 and "morning stretch" in reminders[0].text
    routine = of(events, StretchRoutine)
    assert routine and routine[0].part_of_day == "morning"
    closed = [r for r in of(events, AlertResponseEvent) if r.alert_id == reminders[0].alert_id]
    assert [r.response for r in closed] == [AlertResponse.ACKNOWLEDGED]
    assert closed[0].t_s == pytest.approx(routine[0].end_s)


def test_one_battery_nudge_at_15_percent_rearmed_after_charging() -> None:
    sim, chunk = short_day()
    pipe = Pipeline(PipelineConfig(state_interval_s=0.0), profile_for(sim, chunk),
                    wall_offset_s=MONDAY_8 + 3600.0 - chunk.t_s[0], tz=UTC)
    pipe.process(ImuSamples(chunk.t_s[:250], chunk.acc[:250], chunk.gyr[:250]))
    assert pipe.battery(40) == []
    first = pipe.battery(15)
    assert [a.alert_kind for a in of(first, Alert)] == ["battery"] and "15 %" in first[0].text
    assert pipe.battery(12) == [] and pipe.battery(9) == []  # one nudge, not one per STATUS
    assert pipe.battery(90) == []  # charged: re-armed, but the day's budget (1) is spent
    assert [h.reason for h in of(pipe.battery(14), HeldAlert)] == ["over budget"]


def test_the_summary_and_the_html_show_real_responses_and_holds(tmp_path: Path) -> None:
    sim, chunk = short_day()
    pipe = Pipeline(_sitting_config(sedentary_repeat_budget=0, sedentary_backoff_s=(30.0,)), profile_for(sim, chunk),
                    wall_offset_s=MONDAY_8 + 3600.0 - chunk.t_s[0], tz=UTC)
    events: list = []
    answered = False
    for i in range(0, len(chunk.t_s), 25):
        events += pipe.process(ImuSamples(chunk.t_s[i:i + 25], chunk.acc[i:i + 25], chunk.gyr[i:i + 25]))
        open_lean = pipe.policy.latest_open("lean")
        if open_lean is not None and not answered:  # the wearer snoozes the lean nudge
            events += pipe.respond(open_lean.alert_id, AlertResponse.SNOOZED, float(chunk.t_s[i:i + 25][-1]))
            answered = True
    events += pipe.finish()
    assert answered
    sink = SqliteSink(tmp_path / "p.db", background=False)
    sink.on_device("dev", {"wall_offset_s": pipe.wall_offset_s})
    sink.handle_all("dev", events)
    sink.close()
    with Database(tmp_path / "p.db", create=False) as db:
        s, ev = db.day_summary("dev", datetime.fromtimestamp(MONDAY_8, UTC).date(), tz=UTC, compare_days_n=0)
    kinds = {a.alert_kind: a for a in s.alerts}
    assert kinds["lean"].responses["snoozed"] == 1
    assert sum(a.responses["ignored"] + a.responses["acknowledged"] for a in s.alerts) == s.alerts_total - 1
    assert s.held == {"over budget": len(of(events, HeldAlert))} and s.held_total >= 1
    d = s.to_dict(UTC)
    assert d["held"]["by_reason"]["over_budget"] == s.held_total
    html = render_day(s, ev, tz=UTC)
    assert 'id="nudges"' in html and f"{s.held_total} held back: {s.held_total} over budget" in html
    _chromium_shows_the_panel(html, tmp_path)


def _chromium_shows_the_panel(html: str, tmp_path: Path) -> None:
    if needs_chromium.args[0]:  # skipif condition: no chromium here
        return
    page = tmp_path / "probe.html"
    page.write_text(html.replace("</body>", "<script>const n = document.getElementById('nudges');"
                                 "n.setAttribute('data-h', Math.round(n.getBoundingClientRect().height));"
                                 "n.setAttribute('data-rows', n.querySelectorAll('tbody tr').length);"
                                 "</script></body>"), encoding="utf-8")
    dom = chromium(["--dump-dom", page.as_uri()], tmp_path)
    assert dom.returncode == 0, dom.stderr[-2000:]
    import re

    m = re.search(r'id="nudges"[^>]*data-h="(\d+)"[^>]*data-rows="(\d+)"', dom.stdout)
    assert m is not None, dom.stdout[:500]
    assert int(m.group(1)) > 60 and int(m.group(2)) >= 2


def test_the_device_button_and_double_tap_answer_the_latest_alert_and_low_battery_nudges_once() -> None:
    import firmware_protocol as fp
    from monitor.commands.run import pipeline_factory
    from monitor.config import Config
    from monitor.service.core import Service
    from monitor.service.session import ServiceOptions
    from monitor.sim import builtin_scenario
    from monitor.sim.device import VirtualDevice
    from monitor.sim.links import SimulatedSource, frame_all
    from monitor.sources.base import Received

    sim = Simulator(builtin_scenario("lean"), odr_hz=25.0)
    dev = VirtualDevice(sim.chunks(10.0), sim.odr_hz, batch_size=25, seed=1)
    src = SimulatedSource(dev, step_s=10.0)
    got: list = []
    gestures = [fp.EventKind.BUTTON_PRESS, 99, fp.EventKind.TAP_DOUBLE]

    def on_event(device_id: str, ev: object) -> None:
        got.append(ev)
        if isinstance(ev, Alert) and gestures:  # the wearer answers on the device (99: a kind from the future)
            for kind in (gestures.pop(0),) if gestures[0] != 99 else (gestures.pop(0), gestures.pop(0)):
                raw = frame_all(dev.press(kind))
                src._pending.append(Received(src.device_id, raw, src.decoder.feed(raw)))
            dev.battery_pct = 12  # and the battery runs low: the next STATUS says so

    svc = Service(src, pipeline_factory(Config(), live=False), [], ServiceOptions(poll_s=0.0))
    svc.on_event = on_event
    report = svc.run()
    alerts = of(got, Alert)
    answers = {r.alert_id: r.response for r in of(got, AlertResponseEvent)}
    first_non_battery = [a for a in alerts if a.alert_kind != "battery"]
    assert answers[first_non_battery[0].alert_id] == AlertResponse.ACKNOWLEDGED  # the button press
    assert [a.alert_kind for a in alerts].count("battery") == 1
    (r,) = report.devices.values()
    assert r["device_events"]["button press"] == 1 and r["device_events"]["unknown (99)"] == 1
    assert sum(r["device_events"].values()) == 3
    acked = [i for i, resp in answers.items() if resp == AlertResponse.ACKNOWLEDGED]
    assert len(acked) == 2  # the double tap answered the next alert too
