"""Where the pipeline's events go, mirroring `monitor.sources`: one small interface (`Sink`) and its
implementations.

    base      the Sink protocol: on_device(device_id, info), handle(device_id, event), close()
    console   ConsoleSink: one line per alert, episode, walk and break (stdout + the posture.alerts logger)
    desktop   DesktopSink: notify-send / osascript, quietly nothing without a desktop session
    mqtt      MqttSink: alert and state topics, Home Assistant discovery (ha_discovery), the day's tally (day_tally)
    haptic    HapticSink: the device's own vibration motor (HAPTIC command)
    sqlite    SqliteSink: events into the store (monitor.report.store)
"""

from monitor.sinks.base import Sink
from monitor.sinks.console import ConsoleSink
from monitor.sinks.desktop import DesktopSink, desktop_command

__all__ = ["ConsoleSink", "DesktopSink", "Sink", "desktop_command"]
