"""From samples to events: orientation fusion, then the detectors (`monitor.detect`), then the alert policy.

    core      Pipeline: one device's samples in, events out (`Pipeline.process`), its public calls
    steps     the per-batch wiring of the detectors behind `process` (PipelineSteps, inherited by Pipeline)
    config    PipelineConfig (one field per config file section) and TimelineRow
    fusion    sensor frame -> trunk orientation (ahrs Madgwick/Mahony, the mounting), and the angles
    mahony    the fast Mahony filter used for live streams
    angles    lean and flexion from a rotation
    alerts    when to tell the wearer: work and quiet hours, hold times, snooze, pause
    nudges    kind and rare: at most so many a day, backing off when ignored (held reasons in `held`)
"""
