"""The simulator's clock: real time plus an offset that tests move forward."""

from collections.abc import Callable
import datetime as dt
import time


class SimClock:
    """Time as the PBX sees it, so tests expire tokens and lockouts without sleeping.

    The base clock is looked up on every call (default ``time.time``), so freezegun and
    Home Assistant's ``freezer`` fixture move the PBX's time too.
    """

    def __init__(self, base: Callable[[], float] | None = None) -> None:
        """Start at the base clock with no offset."""
        self._base = base
        self._offset = 0.0

    def now(self) -> float:
        """Return the PBX's current Unix time in seconds."""
        base = self._base() if self._base is not None else time.time()
        return base + self._offset

    def advance(self, seconds: float) -> None:
        """Jump the PBX's time forward (or back, with a negative value)."""
        self._offset += seconds


def pbx_time(timestamp: float) -> str:
    """Format a clock reading as the PBX writes times (UTC here)."""
    return dt.datetime.fromtimestamp(timestamp, dt.UTC).strftime("%Y-%m-%d %H:%M:%S")
