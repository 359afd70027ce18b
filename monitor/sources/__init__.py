"""Inputs of the monitor behind one small interface (`Source`): USB serial, MQTT, file replay, simulator."""

from monitor.sources.base import (
    Connected,
    Disconnected,
    Item,
    QueuedSource,
    Received,
    Samples,
    Source,
    SourceError,
    SourceFailed,
    SourceUnavailable,
)

__all__ = ["Connected", "Disconnected", "Item", "QueuedSource", "Received", "Samples", "Source",
           "SourceError", "SourceFailed", "SourceUnavailable"]
