"""The detection package's exceptions.

DetectError (ValueError)        bad settings or input to a detector (names the setting or the array)
"""

from __future__ import annotations


class DetectError(ValueError):
    """Bad settings or input to a detector."""
