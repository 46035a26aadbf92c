"""Fault switches that make the simulated PBX misbehave like a real one on a bad day."""

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class ErrnoFault:
    """The next request to ``endpoint`` (any endpoint when None) answers ``errno``."""

    errno: str
    endpoint: str | None = None


class Faults:
    """Switches a test flips; they apply to PBX API requests, never to the control API.

    ``down`` takes effect at once (the listening socket closes or reopens on the same
    port before the setter returns), so a test's next connection sees the change.
    """

    def __init__(self, on_down: Callable[[bool], None]) -> None:
        """Start with every fault off; ``on_down`` opens or closes the listener."""
        self.slow = 0.0
        self.garbage = False
        self.errnos: list[ErrnoFault] = []
        self._down = False
        self._on_down = on_down

    @property
    def down(self) -> bool:
        """Whether the PBX refuses new connections."""
        return self._down

    @down.setter
    def down(self, value: bool) -> None:
        if value != self._down:
            self._down = value
            self._on_down(value)

    def refuse_next(self, errno: str, endpoint: str | None = None) -> None:
        """Make the next request (to ``endpoint``, if given) answer ``errno``, once."""
        self.errnos.append(ErrnoFault(errno, endpoint))

    def take_errno(self, endpoint: str) -> str | None:
        """Return the errno a request to ``endpoint`` must answer, using the fault up."""
        for fault in self.errnos:
            if fault.endpoint in (None, endpoint):
                self.errnos.remove(fault)
                return fault.errno
        return None
