"""The results of text messages the PBX accepted, as its `sms-send` reports tell.

An action that waits for the result may start waiting after the report came
(the PBX can be quick): the latest results are kept a while for it.
"""

import asyncio
from collections import OrderedDict
from typing import Any, Final

from homeassistant.core import callback

from .api import Report
from .api.sms import SmsResult, result_of

KEPT_RESULTS: Final = 100


class SmsResults:
    """Wait for, and remember, the results of one PBX's messages."""

    def __init__(self) -> None:
        """No message sent yet."""
        self._results: OrderedDict[str, SmsResult] = OrderedDict()
        self._waiting: dict[str, list[asyncio.Future[SmsResult]]] = {}

    @callback
    def async_handle_report(self, report: Report, _data: dict[str, Any]) -> None:
        """Note the result an `sms-send` report brings, and wake who waits for it."""
        if report.name != "sms-send":
            return
        smsid = report.fields.get("smsid")
        result = result_of(report.fields.get("status"))
        if not isinstance(smsid, str) or result is None:
            return
        self._results[smsid] = result
        self._results.move_to_end(smsid)
        while len(self._results) > KEPT_RESULTS:
            self._results.popitem(last=False)
        for future in self._waiting.pop(smsid, []):
            if not future.done():
                future.set_result(result)

    async def async_wait(self, smsid: str, timeout: float) -> SmsResult | None:
        """Return the message's result, None when none came within `timeout` seconds."""
        if (result := self._results.get(smsid)) is not None:
            return result
        future: asyncio.Future[SmsResult] = asyncio.get_running_loop().create_future()
        self._waiting.setdefault(smsid, []).append(future)
        try:
            async with asyncio.timeout(timeout):
                return await future
        except TimeoutError:
            return None
        finally:
            if (waiting := self._waiting.get(smsid)) is not None:
                if future in waiting:
                    waiting.remove(future)
                if not waiting:
                    del self._waiting[smsid]
