"""The posture monitor: sources, fusion, detection, alerts, storage, summaries, the service and the CLI."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from monitor.imu import ImuSamples

__all__ = ["ImuSamples"]


def __getattr__(name: str) -> Any:
    # imported on first use, so that quick commands (`posture status`, `posture done`) do not load numpy
    if name == "ImuSamples":
        from monitor.imu import ImuSamples

        return ImuSamples
    raise AttributeError(f"module 'monitor' has no attribute {name!r}")
