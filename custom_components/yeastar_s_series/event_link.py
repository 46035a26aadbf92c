"""The TCP report method as Home Assistant runs it: one event link, kept up.

When the PBX's *Report Method* is TCP, Home Assistant connects out to the PBX's
event port and reads the events there; every event goes to the same receiver as
the webhook's reports. A link that drops is logged once when it goes and once
when it is back, and tried again on the heartbeat's back-off: every try is a login with the
password, so a refused login ends the tries (the user is asked), and so do three
logins in a row that the PBX answered by hanging up.
"""

import asyncio
from collections.abc import Callable
from enum import StrEnum
import random

from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.dispatcher import async_dispatcher_send

from .api import (
    YeastarAuthenticationError,
    YeastarConnectionError,
    YeastarEventLink,
    YeastarLoginUnansweredError,
)
from .const import LOGGER, retry_delay, signal_link
from .receiver import ReportReceiver

# Logins the PBX hung up on, in a row, taken for a refused password.
UNANSWERED_LOGINS = 3


class LinkState(StrEnum):
    """What the Connection sensor says of the event link."""

    CONNECTED = "connected"
    DISCONNECTED = "disconnected"
    PASSWORD_NEEDED = "password_needed"
    REFUSED = "refused"


type LinkFactory = Callable[[], YeastarEventLink]


class EventLinkRunner:
    """Keep one TCP event link up while the entry is loaded."""

    def __init__(
        self,
        hass: HomeAssistant,
        entry_id: str,
        receiver: ReportReceiver,
        *,
        connect: LinkFactory,
        longest_wait: float,
        on_refused: Callable[[], None],
    ) -> None:
        """Describe the link; `start` runs it."""
        self.hass = hass
        self.entry_id = entry_id
        self.receiver = receiver
        self.state = LinkState.DISCONNECTED
        self._connect = connect
        self._longest_wait = longest_wait
        self._on_refused = on_refused
        self._task: asyncio.Task[None] | None = None
        self._lost_logged = False

    @property
    def running(self) -> bool:
        """Whether the link is kept up (or being tried)."""
        return self._task is not None and not self._task.done()

    @callback
    def async_start(self) -> None:
        """Start keeping the link up (nothing if it already is)."""
        if not self.running:
            self._task = self.hass.async_create_background_task(
                self._async_run(), f"yeastar_s_series event link {self.entry_id}"
            )

    async def async_stop(self) -> None:
        """Close the link and stop trying."""
        if (task := self._task) is None:
            return
        self._task = None
        task.cancel()
        try:
            await task
        except asyncio.CancelledError:
            if (current := asyncio.current_task()) and current.cancelling():
                raise

    @callback
    def _async_set_state(self, state: LinkState) -> None:
        """Note the link's state and tell the Connection sensor."""
        if state is not self.state:
            self.state = state
            async_dispatcher_send(self.hass, signal_link(self.entry_id))

    async def _async_run(self) -> None:
        """Connect, read, and connect again when the link drops."""
        failures = unanswered = 0
        while True:
            try:
                async with self._connect() as link:
                    failures = unanswered = 0
                    self._async_set_state(LinkState.CONNECTED)
                    if self._lost_logged:
                        LOGGER.info("The event link to the PBX is back")
                        self._lost_logged = False
                    async for body in link.events():
                        self.receiver.async_receive(body)
            except YeastarAuthenticationError as err:
                self._async_refused(err)
                return
            except YeastarLoginUnansweredError as err:
                unanswered += 1
                if unanswered >= UNANSWERED_LOGINS:
                    self._async_refused(err)
                    return
                self._async_lost(err)
            except YeastarConnectionError as err:
                self._async_lost(err)
            failures += 1
            # The heartbeat's back-off; a random part spreads PBXs gone together.
            wait = retry_delay(failures, self._longest_wait)
            await asyncio.sleep(wait + random.uniform(0, 1))  # noqa: S311

    @callback
    def _async_lost(self, err: Exception) -> None:
        """Log the first failure of an outage, the later ones at debug level."""
        self._async_set_state(LinkState.DISCONNECTED)
        if self._lost_logged:
            LOGGER.debug("The event link to the PBX is still down: %s", err)
            return
        LOGGER.warning("The event link to the PBX is down: %s", err)
        self._lost_logged = True

    @callback
    def _async_refused(self, err: Exception) -> None:
        """Stop for good: only the user can help (the password, the PBX's settings)."""
        LOGGER.warning("The PBX refused the login to its event port: %s", err)
        self._async_set_state(LinkState.REFUSED)
        self._on_refused()
