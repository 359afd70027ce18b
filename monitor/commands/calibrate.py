"""`posture calibrate accel|mounting|rebaseline|show`: the guided calibrations and the device profiles.

    posture calibrate accel      [--simulate SCENARIO | --recording FILE] [--misalignment]
    posture calibrate mounting   [--simulate SCENARIO | --recording FILE --neutral A:B --forward-bend C:D]
    posture calibrate rebaseline [--simulate SCENARIO | --recording FILE --neutral A:B]
    posture calibrate show       [--device ID]

Live, the sans-IO routines of calibration.routines are fed from `live_batches(args)` and their events
printed; from a recording, the same maths runs on the given windows. Results go to the device's profile
(calibration.profile); the device id comes from the live device's DEVICE_INFO, the recording's, or
`--device-id`. The accelerometer calibration in the profile, when there is one, is applied before the
mounting maths. Exit status: 0 done, 1 the calibration failed (the message says what to redo), 2 bad input.
"""

from __future__ import annotations

import argparse
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from monitor.commands._calibrate_input import (
    Batch,
    is_transport,
    live_batches,
    live_device_id,
    load_samples,
    say,
)

if TYPE_CHECKING:
    from calibration import AccelCalibration, Mounting, Profile
    from calibration.routines import Event, Routine

HELP = "calibrate the accelerometer or the sensor's mounting on your back, re-baseline, show a profile"



def _window_arg(text: str) -> tuple[float, float]:
    from calibration.mounting import parse_window

    try:
        return parse_window(text)
    except ValueError as err:
        raise argparse.ArgumentTypeError(str(err)) from None


def add_arguments(p: argparse.ArgumentParser) -> None:
    sub = p.add_subparsers(dest="what", metavar="WHAT")
    sub.required = True

    def source(sp: argparse.ArgumentParser) -> None:
        g = sp.add_mutually_exclusive_group()
        g.add_argument("--recording", type=Path, metavar="FILE", help="a raw capture or CSV recording instead of "
                       "a live device")
        g.add_argument("--simulate", metavar="SCENARIO", help="a live simulated wearer: a built-in scenario "
                       "name or a scenario TOML file, played faster than real time")
        g.add_argument("--serial", nargs="?", const="", metavar="PORT", help="a live device over USB serial "
                       "(PORT, or auto-detected by [device] vid/pid in the config)")
        g.add_argument("--mqtt", metavar="URL", help="a live device over MQTT: mqtt[s]://[user@]host[:port][/prefix] "
                       "(with several devices on the broker, name one with --device-id)")
        sp.add_argument("--config", type=Path, help="TOML config for the transports (as for `posture run`)")
        sp.add_argument("--seed", type=int, default=None, help="simulator seed (default: the scenario's)")
        sp.add_argument("--device-id", metavar="ID", help="the device whose profile to update (default: "
                        "from the device's DEVICE_INFO)")
        sp.add_argument("--dry-run", action="store_true", help="print the result without saving it")

    a = sub.add_parser("accel", help="accelerometer offset and scale from >= 6 still poses")
    source(a)
    a.add_argument("--misalignment", action="store_true", help="ask for 9 poses and fit axis misalignment too "
                   "(from a recording it is fitted whenever there are >= 9 poses)")
    m = sub.add_parser("mounting", help="how the sensor sits on your back: sit upright, then bend forward")
    source(m)
    m.add_argument("--neutral", type=_window_arg, metavar="A:B", help="recording: upright still window, s")
    m.add_argument("--forward-bend", type=_window_arg, metavar="C:D", help="recording: forward bend window, s")
    r = sub.add_parser("rebaseline", help="re-measure the upright posture only (sensor re-attached)")
    source(r)
    r.add_argument("--neutral", type=_window_arg, metavar="A:B", help="recording: upright still window, s")
    s = sub.add_parser("show", help="print a device's calibration profile (all profiles without --device)")
    s.add_argument("--device", "--device-id", dest="device_id", metavar="ID", help="the device id")


# ----------------------------------------------------------------------------------------- sources


# ----------------------------------------------------------------------------------------- output


def _show_event(ev: Event) -> None:
    from calibration.routines import Countdown, Failed, PoseAccepted, PoseRejected, Progress, Prompt

    if isinstance(ev, Prompt):
        say(ev.text)
    elif isinstance(ev, Countdown):
        say(f"  {ev.seconds_left} ...")
    elif isinstance(ev, Progress):
        say(f"  holding still {'#' * round(ev.fraction * 10):<10} {ev.fraction:4.0%}")
    elif isinstance(ev, PoseAccepted):
        say(f"  pose {ev.index} taken ({ev.orientation or 'in between the axes'})")
    elif isinstance(ev, PoseRejected):
        say(f"  pose refused: {ev.reason}")
    elif isinstance(ev, Failed):
        say(f"calibration failed: {ev.error}", err=True)


def describe_accel(a: AccelCalibration) -> list[str]:
    from calibration.accel import G

    off = a.offset * 1000.0 / G

    def trio(v: np.ndarray, fmt: str) -> str:
        return "  ".join(format(float(x), fmt) for x in v)

    lines = [
        f"  offset      {trio(off, '+8.1f')}  mg   (± {trio(a.offset_std_mg, '.1f')})",
        f"  scale       {trio(a.scale, '8.5f')}       (± {trio(a.scale_std, '.5f')})",
    ]
    if not np.array_equal(a.misalignment, np.eye(3)):
        lines.append(f"  misalignment m10 m20 m21: {trio(a.misalignment[[1, 2, 2], [0, 0, 1]], '+.4f')}")
    lines.append(f"  residual    {a.residual_mg:.2f} mg RMS (worst {a.max_residual_mg:.2f} mg) over {a.n_poses} poses")
    lines.append(f"  measured    {a.measured_at}")
    return lines


def describe_mounting(m: Mounting) -> list[str]:
    axis = "not measured" if np.isnan(m.axis_off_deg) else f"{m.axis_off_deg:.1f} deg"
    rows = [f"{name} = ({r[0]:+.3f}, {r[1]:+.3f}, {r[2]:+.3f})" for name, r in zip("xyz", m.R_bs, strict=True)]
    return [
        "  body axes in the sensor frame: " + "  ".join(rows),
        f"  bend {m.bend_deg:.1f} deg; neutral wander {m.neutral_motion_deg:.2f} deg; sideways path "
        f"{m.path_deviation_deg:.2f} deg; gyro axis off {axis}",
        f"  measured    {m.measured_at}",
    ]


def describe_profile(p: Profile, path: Path) -> list[str]:
    lines = [f"device {p.device_id}  ({path})"]
    if p.gyro is not None:
        b = np.degrees(p.gyro.gyro_bias_rad_s)
        sd = np.degrees(np.asarray(p.gyro.sigma_rad_s))
        lines += ["gyro bias:", f"  bias        {b[0]:+.3f} {b[1]:+.3f} {b[2]:+.3f} deg/s   (± {np.max(sd):.4f})",
                  f"  measured    {p.gyro.measured_at}"]
    if p.accel is not None:
        lines += ["accelerometer:", *describe_accel(p.accel)]
    if p.mounting is not None:
        lines += ["mounting:", *describe_mounting(p.mounting)]
    if p.gyro is None and p.accel is None and p.mounting is None:
        lines.append("  (nothing calibrated yet)")
    return lines


# ----------------------------------------------------------------------------------------- running


def _profile(device_id: str) -> Profile:
    from calibration.profile import Profile, load_device_profile

    return load_device_profile(device_id) or Profile(device_id)


def _save(args: argparse.Namespace, device_id: str | None, **part: object) -> int:
    from calibration.profile import save_profile

    if args.dry_run:
        say("(dry run: not saved)")
        return 0
    if not device_id:
        say("error: the recording does not name its device: give --device-id ID (or --dry-run)", err=True)
        return 2
    path = save_profile(replace(_profile(device_id), **part))  # type: ignore[arg-type]
    say(f"saved to {path}")
    return 0


def _drive(routine: Routine, batches: Iterator[Batch]) -> Event | None:
    """Feed a routine until it finishes; print its events; return Done or Failed (None: no data)."""
    from calibration.routines import Done, Failed

    last: Event | None = None
    for ev in routine.start():
        _show_event(ev)
    for t, a, g in batches:
        for ev in routine.feed(t, a, g):
            _show_event(ev)
            if isinstance(ev, Done | Failed):
                last = ev
        if routine.finished:
            return last
    for ev in routine.finish():
        _show_event(ev)
        last = ev
    return last


def _calibrated(batches: Iterator[Batch], accel: AccelCalibration | None) -> Iterator[Batch]:
    for t, a, g in batches:
        yield t, (accel.apply(a) if accel is not None else a), g


def run(args: argparse.Namespace) -> int:
    from calibration import CalibrationError, ProfileError, WindowError
    from monitor.imu import CsvError
    from monitor.recording import RecordingError
    from monitor.sim import ScenarioError
    from monitor.sources.base import SourceError

    try:
        if args.what == "show":
            return _show(args)
        if args.recording is None and args.simulate is None and not is_transport(args):
            say("error: say where the samples come from: --serial [PORT], --mqtt URL, --simulate SCENARIO or "
                 "--recording FILE", err=True)
            return 2
        try:
            return {"accel": _accel, "mounting": _mounting, "rebaseline": _rebaseline}[args.what](args)
        finally:
            live = getattr(args, "_live_device", None)
            if live is not None:
                live.close()
    except (ProfileError, WindowError) as err:
        say(f"error: {err}", err=True)
        return 2
    except CalibrationError as err:
        say(f"calibration failed: {err}", err=True)
        return 1
    except (RecordingError, CsvError, ScenarioError, SourceError, OSError, ValueError) as err:
        say(f"error: {err}", err=True)
        return 2


def _accel(args: argparse.Namespace) -> int:
    from calibration.accel import AccelCalibration, AccelFitParams, calibrate_accel_recording, find_static_poses
    from calibration.routines import AccelRoutine, AccelRoutineParams, Done

    fit = AccelFitParams(fit_misalignment=True if args.misalignment else None)
    if args.recording is not None:
        t, acc, gyr, device = load_samples(args.recording)
        kept, rejected = find_static_poses(t, acc, gyr)
        for i, p in enumerate(kept, 1):
            say(f"  pose {i}: {p.t_start_s:.1f}-{p.t_end_s:.1f} s")
        for p, why in rejected:
            say(f"  still at {p.t_start_s:.1f}-{p.t_end_s:.1f} s not used: {why}")
        result = calibrate_accel_recording(t, acc, gyr, fit=fit)
        device = args.device_id or device
    else:
        device = live_device_id(args)
        ev = _drive(AccelRoutine(AccelRoutineParams(fit=fit, n_poses=9 if args.misalignment else 6)),
                    live_batches(args))
        if not isinstance(ev, Done) or not isinstance(ev.result, AccelCalibration):
            return 1
        result = ev.result
    say("accelerometer calibration:")
    for line in describe_accel(result):
        say(line)
    return _save(args, device, accel=result)


def _mounting(args: argparse.Namespace) -> int:
    from calibration.mounting import Mounting, mounting_from_recording
    from calibration.routines import Done, MountingRoutine

    if args.recording is not None:
        if args.neutral is None or args.forward_bend is None:
            say("error: from a recording, give --neutral A:B and --forward-bend C:D (seconds)", err=True)
            return 2
        t, acc, gyr, device = load_samples(args.recording)
        device = args.device_id or device
        accel = _profile(device).accel if device else None
        if accel is not None:
            say(f"using the accelerometer calibration of {accel.measured_at}")
            acc = accel.apply(acc)
        result = mounting_from_recording(t, acc, gyr, args.neutral, args.forward_bend)
    else:
        device = live_device_id(args)
        accel = _profile(device).accel
        ev = _drive(MountingRoutine(), _calibrated(live_batches(args), accel))
        if not isinstance(ev, Done) or not isinstance(ev.result, Mounting):
            return 1
        result = ev.result
    say("mounting calibration:")
    for line in describe_mounting(result):
        say(line)
    return _save(args, device, mounting=result)


def _rebaseline(args: argparse.Namespace) -> int:
    from calibration.mounting import Mounting, rebaseline_neutral
    from calibration.routines import Done, MountingRoutine

    if args.recording is not None:
        if args.neutral is None:
            say("error: from a recording, give --neutral A:B (seconds)", err=True)
            return 2
        t, acc, gyr, rec_device = load_samples(args.recording)
        device = args.device_id or rec_device
    else:
        device = live_device_id(args)
    if not device:
        say("error: the recording does not name its device: give --device-id ID", err=True)
        return 2
    profile = _profile(device)
    if profile.mounting is None:
        say(f"error: device {device} has no mounting calibration yet: run `posture calibrate mounting` first",
             err=True)
        return 2
    if args.recording is not None:
        i0, i1 = np.searchsorted(t, args.neutral, side="left")
        if i1 - i0 < 2:
            say(f"error: the neutral window {args.neutral[0]:g}:{args.neutral[1]:g} s holds {i1 - i0} samples; "
                 f"the recording spans {t[0]:.2f}..{t[-1]:.2f} s", err=True)
            return 2
        a = acc[i0:i1] if profile.accel is None else profile.accel.apply(acc[i0:i1])
        result = rebaseline_neutral(profile.mounting, a, gyr[i0:i1])
    else:
        ev = _drive(MountingRoutine(previous=profile.mounting), _calibrated(live_batches(args), profile.accel))
        if not isinstance(ev, Done) or not isinstance(ev.result, Mounting):
            return 1
        result = ev.result
    say("neutral posture re-baselined:")
    for line in describe_mounting(result):
        say(line)
    return _save(args, device, mounting=result)


def _show(args: argparse.Namespace) -> int:
    from calibration.profile import config_dir, load_device_profile, load_profile, profile_path

    if args.device_id:
        profile = load_device_profile(args.device_id)
        if profile is None:
            say(f"no profile for device {args.device_id} (looked for {profile_path(args.device_id)})", err=True)
            return 1
        for line in describe_profile(profile, profile_path(args.device_id)):
            say(line)
        return 0
    folder = config_dir() / "profiles"
    paths = sorted(folder.glob("*.toml")) if folder.is_dir() else []
    if not paths:
        say(f"no calibration profiles yet (in {folder})")
        return 0
    for path in paths:
        for line in describe_profile(load_profile(path), path):
            say(line)
    return 0
