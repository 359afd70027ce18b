"""The mounting options shared by the offline commands (`posture fuse`, `posture analyze`):

    --neutral A:B --forward-bend C:D     the calibration windows of the same recording, seconds
    --profile FILE                       a device profile (TOML) that holds a mounting
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from calibration.profile import Profile


def add_mounting_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--neutral", metavar="A:B", help="seconds of upright, still posture (with --forward-bend)")
    p.add_argument("--forward-bend", metavar="C:D", help="seconds of a held forward bend (with --neutral)")
    p.add_argument("--profile", type=Path, metavar="FILE", help="device profile (TOML) with the mounting")


def mounting_arguments_error(args: argparse.Namespace) -> str | None:
    """What is wrong with the combination of mounting options, or None."""
    if (args.neutral is None) != (args.forward_bend is None):
        return "--neutral and --forward-bend go together (both windows are needed for the mounting)"
    if args.profile is not None and args.neutral is not None:
        return "give either --profile or --neutral/--forward-bend, not both"
    return None


def load_profile_with_mounting(path: Path) -> Profile:
    """The profile at `path`; MountingError if it holds no mounting yet."""
    from calibration.errors import MountingError
    from calibration.profile import load_profile

    profile = load_profile(path)
    if profile.mounting is None:
        raise MountingError(f"profile {path} has no mounting yet; run `posture calibrate mounting`, "
                            "or give --neutral and --forward-bend windows")
    return profile
