"""The webhook the PBX posts its reports to (the HTTP report method).

The PBX re-sends a report until it gets 200 OK, so whatever comes from its
address is answered 200 at once, accepted or not; refusals are counted instead.
Requests from any other address, or not over HTTP at all, get 403.
"""

from collections.abc import Awaitable, Callable
from http import HTTPStatus

from aiohttp import web
from aiohttp.http_exceptions import HttpProcessingError
from homeassistant.components import webhook
from homeassistant.const import CONF_WEBHOOK_ID
from homeassistant.core import HomeAssistant, callback
from homeassistant.util.aiohttp import MockRequest

from .const import DOMAIN, MAX_REPORT_SIZE
from .coordinator import YeastarConfigEntry
from .receiver import ReportReceiver

type WebhookHandler = Callable[
    [HomeAssistant, str, web.Request | MockRequest], Awaitable[web.Response]
]


@callback
def async_register_webhook(hass: HomeAssistant, entry: YeastarConfigEntry) -> None:
    """Listen for the PBX's reports until the entry unloads (or its setup fails)."""
    webhook_id = entry.data[CONF_WEBHOOK_ID]
    webhook.async_register(
        hass,
        DOMAIN,
        entry.title,
        webhook_id,
        _handler(entry),
        local_only=True,
        allowed_methods=["POST"],
    )
    entry.async_on_unload(lambda: async_unregister_webhook(hass, entry))


@callback
def async_unregister_webhook(hass: HomeAssistant, entry: YeastarConfigEntry) -> None:
    """Stop listening for the PBX's reports (unload, Home Assistant's stop)."""
    webhook.async_unregister(hass, entry.data[CONF_WEBHOOK_ID])


def _handler(entry: YeastarConfigEntry) -> WebhookHandler:
    """Build the handler of one entry's webhook."""

    async def async_handle(
        hass: HomeAssistant, webhook_id: str, request: web.Request | MockRequest
    ) -> web.Response:
        """Answer the PBX with 200; refuse what the PBX could not have sent."""
        receiver = entry.runtime_data.receiver
        if not isinstance(request, web.Request):
            # `webhook/handle` over the websocket API: a Home Assistant user, not the PBX.
            receiver.refuse("not_http", None)
            return web.Response(status=HTTPStatus.FORBIDDEN)
        if request.remote not in entry.runtime_data.coordinator.pbx_addresses:
            receiver.refuse("foreign_address", request.remote)
            return web.Response(status=HTTPStatus.FORBIDDEN)
        if (body := await _async_read(request, receiver)) is not None:
            receiver.async_receive(body)
        return web.Response(status=HTTPStatus.OK)

    return async_handle


async def _async_read(request: web.Request, receiver: ReportReceiver) -> bytes | None:
    """Read the body; None (counted as invalid) when it is too large or unreadable."""
    if request.content_length is not None and request.content_length > MAX_REPORT_SIZE:
        receiver.invalid("too_large", None)
        return None
    try:
        body = await _read_body(request)
    except web.RequestPayloadError, HttpProcessingError:
        receiver.invalid("unreadable", "the body could not be read")
        return None
    if len(body) > MAX_REPORT_SIZE:
        receiver.invalid("too_large", None)
        return None
    return body


async def _read_body(request: web.Request) -> bytes:
    """Read the whole body, however many segments it came in, but no more than the limit + 1."""
    content = request.content
    body = b""
    while len(body) <= MAX_REPORT_SIZE and (
        chunk := await content.read(MAX_REPORT_SIZE + 1 - len(body))
    ):
        body += chunk
    return body
