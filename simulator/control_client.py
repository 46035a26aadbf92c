"""A blocking client of a running simulator's control API, for the command line and devtools.

Plain urllib: both callers are synchronous and have no event loop.
"""

import json
import ssl
import urllib.error
import urllib.request

from .control import PREFIX
from .pbx import Json


class ControlError(Exception):
    """The control API refused a request (an HTTP error status)."""

    def __init__(self, status: int, text: str) -> None:
        """Keep the status and the simulator's answer."""
        super().__init__(f"{status}: {text}")
        self.status = status
        self.text = text


class ControlClient:
    """Drive the simulator at ``url`` through ``/__simulator__/``.

    Unreachable simulators raise ``urllib.error.URLError`` (an OSError), refused
    requests ``ControlError``.
    """

    def __init__(self, url: str, *, timeout: float = 10) -> None:
        """Talk to the simulator at ``url``; its certificate is self-signed, so unchecked."""
        self.url = url.rstrip("/")
        self._timeout = timeout
        self._context = ssl.create_default_context()
        self._context.check_hostname = False
        self._context.verify_mode = ssl.CERT_NONE

    def state(self) -> Json:
        """Return counters, sessions (without tokens), extensions, faults and deliveries."""
        return self._call("GET", "state")

    def play(self, scenario: str, **params: str) -> list[Json]:
        """Act out a scenario and return the reports it sent (delivery goes on after)."""
        reports: list[Json] = self._call("POST", f"play/{scenario}", params)["reports"]
        return reports

    def fault(self, name: str, value: object) -> Json:
        """Switch a fault (``down`` takes seconds, after which the PBX listens again)."""
        return self._call("POST", "fault", {"name": name, "value": value})

    def reboot(self) -> Json:
        """Reboot the PBX: sessions forgotten, BootUp reported."""
        return self._call("POST", "reboot")

    def trunk(self, name: str, status: str) -> Json:
        """Change a trunk's status."""
        return self._call("POST", "trunk", {"name": name, "status": status})

    def add_trunk(self, name: str, type: str, **extra: str) -> Json:
        """Create a trunk ([``status``], [``port``]); the PBX reports a ConfigChange."""
        return self._call("POST", "trunk/add", {"name": name, "type": type, **extra})

    def delete_trunk(self, name: str) -> Json:
        """Delete a trunk; the PBX reports a ConfigChange."""
        return self._call("POST", "trunk/delete", {"name": name})

    def extension_settings(self, number: str, **fields: str) -> Json:
        """Change an extension's settings as the PBX's administrator; return them all.

        ``fields`` as ``extension/update`` names them (``dnd="on"``); none: just read.
        """
        return self._call("POST", "extension_settings", {"number": number, **fields})

    def phone(self, number: str, action: str) -> Json:
        """Pick up (``pick_up``) or put down (``hang_up``) the phone of a number."""
        return self._call("POST", "phone", {"number": number, "action": action})

    def settings(self, **values: object) -> Json:
        """Change settings (report_method, forwarding_form, recording...); return all."""
        return self._call("POST", "settings", values)

    def records(self) -> Json:
        """Return the call records and the names of the recordings on the PBX."""
        return self._call("GET", "records")

    def delete_recording(self, name: str) -> Json:
        """Delete a recording, as the PBX's admin would."""
        return self._call("POST", "recording/delete", {"name": name})

    def sms(self, next_outcome: str | None = None) -> Json:
        """Return the messages sent; first set the next one's outcome (sent, failed, silent)."""
        if next_outcome is None:
            return self._call("GET", "sms")
        return self._call("POST", "sms", {"next": next_outcome})

    def reports_go_to(self, url: str) -> bool:
        """Return whether the PBX has sessions and all of them report under ``url``."""
        targets = [session["report_url"] for session in self.state()["sessions"]]
        return bool(targets) and all(target.startswith(url) for target in targets)

    def _call(self, method: str, path: str, payload: Json | None = None) -> Json:
        """Send one request and return the JSON object it answers."""
        request = urllib.request.Request(
            f"{self.url}{PREFIX}/{path}",
            data=None if method == "GET" else json.dumps(payload or {}).encode(),
            method=method,
            headers={"Content-Type": "application/json"},
        )
        try:
            with urllib.request.urlopen(
                request, timeout=self._timeout, context=self._context
            ) as response:
                answer: Json = json.loads(response.read())
        except urllib.error.HTTPError as err:
            raise ControlError(err.code, err.read().decode(errors="replace")) from None
        return answer
