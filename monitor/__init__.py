"""The posture monitor: sources, fusion, detection, alerts, storage, summaries, the service and the CLI."""

from monitor.imu import ImuSamples

__all__ = ["ImuSamples"]
