"""The monitor as a long-running service: source -> capture -> per-device pipeline -> sinks.

    core         Service: the loop (`run`), items from the source, the per-device feed into the pipeline
    session      DeviceSession (one device's state in the service), ServiceOptions, ServiceReport
    status       the live status line and the per-device summary of a run
    gather       each device's batches gathered for a short, bounded time before the pipeline
    guard        per-device fault isolation: guarded calls, non-increasing samples, the bounded device table
    capture_set  the raw captures, one per device, guarded at the I/O edge
    workers      `posture run --workers N`: N processes, each following its own share of the devices

Theory of operation
-------------------
`Service.run` pulls items from one Source (serial, MQTT, replay, simulator; monitor/sources) until it is
told to stop (`stop()`, wired to SIGINT/SIGTERM by `posture run`), the duration is up or a finite source
is exhausted. For each device it keeps a `DeviceSession`:
- one turn of the loop handles every item already waiting (up to ITEMS_PER_TURN), so the loop's own work
  (watchdog, hold deadlines, hooks, status) is paid per turn, not per message; the raw bytes received are
  appended to each device's capture (`CaptureWriter`: unbuffered writes, fsync at most `fsync_interval_s`
  apart) in one write per device at least every CAPTURE_EVERY_S (0.05 s), and at once when the source is
  idle or the service stops, so a kill loses at most the last 0.05 s of bytes; MQTT messages are
  acknowledged to the broker only after their bytes are written (the broker sends the rest again);
- IMU batches are scaled with the device's DEVICE_INFO (batches that arrive before it are held, bounded)
  and consecutive batches are merged before they go through the device's Pipeline; with `hold_s` (`posture
  run`: 0.25 s) a device's batches are first gathered for up to that long (monitor/service/gather.py), so the
  per-call cost is paid a few times a second, not once per message;
- the pipeline's events go to every sink; the latest `State` feeds the status line;
- the device's STATUS battery level and its EVENTs (a button press, a double tap its IMU detected) go to the
  pipeline (`battery`, `answer_latest`): a press or a double tap answers the latest open alert "done", a
  long press snoozes it; kinds this version does not know are counted (`device_events`) and ignored;
- on a live link, a device reboot shifts the device's timeline by the time it was away (the decoder alone
  can only continue it one sample period after the last sample), so a pause is a pause to the detectors;
- on a live link, the time of day of the device's timeline (`wall_offset_s`) is first taken from the first
  sample, as if it had just been measured. A monitor that starts with a backlog waiting at the broker gets
  old samples first, so the service keeps the smallest `wall clock - sample time` seen (samples can not
  arrive before they were taken). When samples arrive at the pace they are taken again (caught up), or the
  device goes offline, or the service stops, and that smallest value is more than BACKLOG_FIX_S below the
  offset in use, the session was dated late by a backlog: the pipeline, the capture's sidecar and every
  sink with a `shift_session(device_id, delta_s)` (the database) are moved to the earlier time, with one
  warning.
`finish()` closes open episodes (`Pipeline.finish`), flushes the sinks and closes the captures.

Faults (monitor/service/guard.py): bad input from one device never harms another device or the service.
Each device's handling is guarded (an unexpected error is logged with its traceback once, counted in the
device's `faults`, and the service goes on); samples whose time does not increase, and batches whose sample
period contradicts the declared rate, are dropped and counted (`dropped_samples`); captures are guarded at
the I/O edge (monitor/service/capture_set.py: a full disk costs the capture, not the analysis). A fault the service
can not recover from, a source whose reader thread died, ends `run` with `SourceFailed` (the watchdog), so
`posture run` exits non-zero and a supervisor restarts it.
"""
