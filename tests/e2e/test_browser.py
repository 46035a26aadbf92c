"""The integration in Home Assistant's own web UI, driven by a real browser.

Playwright drives Debian's ``chromium`` (``/usr/bin/chromium``, or ``$CHROMIUM``) against
the real Home Assistant and simulator of this folder's fixtures. The tests run in file
order on one logged-in page, as a user would: log in, add the PBX from the integrations
page, then look at what it brought. Screenshots at 1280×800 go to a temporary folder, or
to ``$SCREENSHOT_DIR``: ``SCREENSHOT_DIR=docs/images scripts/test tests/e2e/test_browser.py``
renews the ones the README shows.

The tests skip only when the browser is not installed (``.ci/run`` installs it).
"""

from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
import os
from pathlib import Path
import re
import sys
import tempfile

from playwright.sync_api import (
    Browser,
    Locator,
    Page,
    Playwright,
    ViewportSize,
    expect,
    sync_playwright,
)
import pytest

from devtools.clients import wait_for

from .common import calls_entity
from .conftest import HassProcess, SimulatorProcess

CHROMIUM = Path(os.environ.get("CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SCREENSHOTS = Path(
    os.environ.get("SCREENSHOT_DIR")
    or Path(tempfile.gettempdir()) / "yeastar-screenshots"
)
VIEWPORT: ViewportSize = {"width": 1280, "height": 800}
# The first load of the frontend (a few MB of JavaScript) is slow on a small, busy machine.
TIMEOUT_MS = 45_000
EXTENSIONS = ("Jayson (1000)", "Front Desk (1001)", "Kitchen (1002)", "Garage (1003)")
TRUNKS = ("SIP-142", "sip-143", "FXO2-3", "DIGIT1", "GSM2-7")

pytestmark = [
    pytest.mark.e2e,
    # Before any fixture: no Home Assistant starts for nothing.
    pytest.mark.skipif(
        not CHROMIUM.is_file(),
        reason=f"Debian chromium is not installed: {CHROMIUM} is missing "
        "(apt-get install chromium; .ci/run does it)",
    ),
]

# Home Assistant's pages scroll inside shadow roots; reset every scrolled element so
# that a screenshot starts at the top of the page or dialog.
SCROLL_TO_TOP = """() => {
  const walk = (root) => {
    for (const element of root.querySelectorAll("*")) {
      if (element.scrollTop > 0) element.scrollTop = 0;
      if (element.shadowRoot) walk(element.shadowRoot);
    }
  };
  walk(document);
}"""

# Clear what this test machine, not the integration, would show as badges in the
# sidebar: the country that onboarding through the API leaves unset (a repair) and the
# notification about platforms whose packages this project does not install.
TIDY_UP = """async () => {
  const hass = document.querySelector("home-assistant").hass;
  await hass.callWS({ type: "config/core/update", country: "DE" });
  await hass.callService("persistent_notification", "dismiss_all", {});
}"""


def screenshot(page: Page, name: str) -> None:
    """Save what the browser shows, from the top, as ``<name>.png`` in SCREENSHOTS."""
    page.evaluate(SCROLL_TO_TOP)
    # Let ripples, tooltips and relative times settle.
    page.wait_for_timeout(500)
    # Written here, not by Playwright: it would write from a thread of its own, which the
    # Home Assistant test plugin takes for a thread the test left behind.
    png = page.screenshot(animations="disabled")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    (SCREENSHOTS / f"{name}.png").write_bytes(png)


def call_recorded(hass: HassProcess, callid: str) -> Callable[[], bool | None]:
    """Return a probe of whether the call event entity shows the record of ``callid``."""

    def probe() -> bool | None:
        state = hass.api.find_state(calls_entity)
        attributes = state["attributes"] if state is not None else {}
        return (
            attributes.get("callid") == callid
            and attributes.get("event_type") == "call_record"
        ) or None

    return probe


class BrowserTab:
    """One Chromium tab, driven from a thread of its own.

    Playwright's sync API runs an event loop in the thread that uses it, while the Home
    Assistant test plugin runs async fixtures around every test in the main thread: the
    two cannot share a thread. Each test hands its steps to ``run``.
    """

    def __init__(self) -> None:
        """Prepare the thread (it starts with `open`)."""
        self._thread = ThreadPoolExecutor(1, thread_name_prefix="playwright")
        self._playwright: Playwright | None = None
        self._browser: Browser | None = None
        self._page: Page | None = None

    def open(self, base_url: str) -> None:
        """Start the browser and open a tab at a fixed size, in light mode."""
        self._thread.submit(self._open, base_url).result()

    def _open(self, base_url: str) -> None:
        self._playwright = sync_playwright().start()
        self._browser = self._playwright.chromium.launch(
            executable_path=CHROMIUM, args=CHROMIUM_FLAGS
        )
        context = self._browser.new_context(
            viewport=VIEWPORT, color_scheme="light", locale="en-US", base_url=base_url
        )
        context.set_default_timeout(TIMEOUT_MS)
        expect.set_options(timeout=TIMEOUT_MS)
        self._page = context.new_page()

    def run[T](self, steps: Callable[[Page], T]) -> T:
        """Run ``steps`` with the tab in the browser's thread and return what they return."""
        return self._thread.submit(self._run, steps).result()

    def _run[T](self, steps: Callable[[Page], T]) -> T:
        assert self._page is not None, "the browser is not open"
        return steps(self._page)

    def close(self) -> None:
        """Close the browser and stop its thread."""
        self._thread.submit(self._close).result()
        self._thread.shutdown()

    def _close(self) -> None:
        if self._browser is not None:
            self._browser.close()
        if self._playwright is not None:
            self._playwright.stop()


@pytest.fixture(scope="module")
def tab(onboarded: HassProcess) -> Iterator[BrowserTab]:
    """Headless Chromium (Debian's package: Playwright cannot download one here)."""
    browser = BrowserTab()
    browser.open(onboarded.url)
    yield browser
    browser.close()


@pytest.fixture(autouse=True)
def _screenshot_on_failure(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[None]:
    """Keep what the browser showed when a test failed (its path is printed)."""
    failed = request.session.testsfailed
    yield
    if request.session.testsfailed > failed and "tab" in request.fixturenames:
        browser: BrowserTab = request.getfixturevalue("tab")
        path = tmp_path_factory.mktemp("failure") / f"{request.node.name}.png"
        path.write_bytes(browser.run(lambda page: page.screenshot()))
        sys.stderr.write(f"The browser showed {path} when {request.node.name} failed\n")


def test_log_in(tab: BrowserTab, onboarded: HassProcess) -> None:
    """The login page at / lets the onboarded owner in, and the sidebar appears."""
    owner = onboarded.owner
    assert owner is not None

    def steps(page: Page) -> None:
        page.goto("/")
        expect(page.get_by_text("Welcome home!")).to_be_visible()
        page.get_by_role("textbox", name="Username").fill(owner.username)
        page.get_by_role("textbox", name="Password").fill(owner.password)
        page.get_by_role("button", name="Log in").click()
        expect(page.get_by_role("link", name="Settings")).to_be_visible()
        expect(page.get_by_text(owner.name, exact=True)).to_be_visible()
        page.evaluate(TIDY_UP)

    tab.run(steps)


def test_add_the_pbx_from_the_ui(
    tab: BrowserTab, onboarded: HassProcess, simulator: SimulatorProcess
) -> None:
    """Settings → Devices & services → Add integration → Yeastar: the form adds the PBX."""

    def steps(page: Page) -> None:
        page.get_by_role("link", name="Settings").click()
        page.get_by_role("link", name="Devices & services").click()
        page.get_by_role("button", name="Add integration").click()
        page.get_by_placeholder("Search for a brand name").fill("Yeastar")
        page.get_by_text("Yeastar S-Series", exact=True).click()

        dialog = page.locator("dialog-data-entry-flow")
        expect(dialog.get_by_text("Connect to a Yeastar S-Series PBX")).to_be_visible()
        # The defaults suit a PBX: HTTPS on, certificate not verified, user "api".
        expect(dialog.get_by_role("checkbox", name="Use HTTPS")).to_be_checked()
        expect(
            dialog.get_by_role("checkbox", name="Verify the SSL certificate")
        ).not_to_be_checked()
        expect(dialog.get_by_role("textbox", name="API username")).to_have_value("api")
        dialog.get_by_role("textbox", name="Host").fill("127.0.0.1")
        dialog.get_by_role("spinbutton", name="Port").fill(str(simulator.port))
        dialog.get_by_role("textbox", name="API password").fill(simulator.password)
        screenshot(page, "config-flow")
        dialog.get_by_role("button", name="Submit").click()

        # Success: the step that names the new devices (the PBX, each extension, each
        # trunk) and puts them in areas.
        expect(dialog.get_by_text("Name and assign")).to_be_visible()
        names = dialog.get_by_role("textbox", name="Device name")
        expect(names).to_have_count(1 + len(EXTENSIONS) + len(TRUNKS))
        expect(names.first).to_have_value("Yeastar S100")
        screenshot(page, "config-flow-done")
        dialog.get_by_role("button", name="Skip and finish").click()
        expect(dialog).to_be_hidden()

    tab.run(steps)
    [entry] = onboarded.api.entries()
    assert (entry["title"], entry["state"]) == ("Yeastar S100 (127.0.0.1)", "loaded")


def test_device_page(
    tab: BrowserTab, onboarded: HassProcess, simulator: SimulatorProcess
) -> None:
    """The PBX's page: connected, its Calls entity after two calls, its extensions."""
    # The simulator listens on loopback, which Home Assistant never picks as its own
    # address for reports: set it in the options, as a user behind NAT would.
    [entry] = onboarded.api.entries()
    options = onboarded.api.set_options(
        entry["entry_id"],
        {
            "heartbeat_interval": 60,
            "callback_host": "127.0.0.1",
            "callback_port": onboarded.port,
        },
    )
    assert options["type"] == "create_entry", options
    control = simulator.control
    wait_for(
        lambda: control.reports_go_to(f"{onboarded.url}/") or None,
        timeout=60,
        what="the PBX to report to Home Assistant",
    )
    control.play("inbound_answered")
    reports = control.play("missed_call", extension="1002")
    wait_for(
        call_recorded(onboarded, reports[1]["callid"]),
        timeout=30,
        what="the missed call's record",
    )

    def steps(page: Page) -> None:
        page.goto("/config/integrations/integration/yeastar_s_series")
        expect(page.get_by_text("Yeastar S100 (127.0.0.1)")).to_be_visible()
        for extension in EXTENSIONS:
            expect(page.get_by_text(extension, exact=True)).to_be_visible()
        page.get_by_text("Yeastar S100", exact=True).click()
        expect(page).to_have_url(re.compile(r"/config/devices/device/\w+$"))

        def card(title: str) -> Locator:
            return page.locator("ha-card").filter(
                has=page.get_by_text(title, exact=True)
            )

        expect(card("Sensors")).to_contain_text("Connection")
        expect(card("Sensors")).to_contain_text("Connected")
        expect(card("Events")).to_contain_text("Calls")
        expect(card("Events")).to_contain_text("Call record")
        expect(card("Device info")).to_contain_text("Serial number: 369364835218")
        for extension in EXTENSIONS:
            expect(card("Connected devices")).to_contain_text(extension)
        expect(card("Activity")).to_contain_text("Answered")
        screenshot(page, "device-page")

    tab.run(steps)


def test_extension_device_page(tab: BrowserTab) -> None:
    """An extension's page: its call state, its Calls events, its settings as switches."""

    def steps(page: Page) -> None:
        page.goto("/config/integrations/integration/yeastar_s_series")
        page.get_by_text("Kitchen (1002)", exact=True).click()
        expect(page).to_have_url(re.compile(r"/config/devices/device/\w+$"))

        def card(title: str) -> Locator:
            return page.locator("ha-card").filter(
                has=page.get_by_text(title, exact=True)
            )

        expect(card("Sensors")).to_contain_text("Call")
        expect(card("Sensors")).to_contain_text("Idle")
        expect(card("Sensors")).to_contain_text("Missed calls")
        expect(card("Events")).to_contain_text("Missed")
        expect(card("Configuration")).to_contain_text("Do not disturb")
        expect(card("Configuration")).to_contain_text("Forward all calls")
        expect(card("Controls")).to_contain_text("Hang up")
        screenshot(page, "extension-page")

    tab.run(steps)


def test_entities(tab: BrowserTab) -> None:
    """Settings → Entities, filtered to the integration: the PBX's and extensions' entities."""

    def steps(page: Page) -> None:
        page.goto("/config/entities?domain=yeastar_s_series")
        page.get_by_role("button", name="Group by Device").click()
        page.get_by_text("Don't group", exact=True).click()
        rows = page.get_by_role("row")
        # The list shows only what fits the window: search one device at a time.
        search = page.get_by_placeholder(re.compile(r"^Search \d+ entities$"))
        search.fill("Yeastar S100")
        for name in ("Calls", "Connection", "Active calls", "Last report"):
            expect(rows.filter(has_text=name).first).to_be_visible()
        screenshot(page, "entities")
        for extension in EXTENSIONS:
            search.fill(extension)
            for name in ("Status", "Call", "Calls"):
                expect(rows.filter(has_text=name).first).to_be_visible()

    tab.run(steps)


def test_calls_activity(tab: BrowserTab, onboarded: HassProcess) -> None:
    """Activity (the logbook) of the Calls entity: each call's events, newest first."""
    calls = onboarded.api.find_state(calls_entity)
    assert calls is not None

    def steps(page: Page) -> None:
        page.goto(f"/logbook?entity_id={calls['entity_id']}")
        entries = page.locator("ha-logbook-renderer")
        for event_type in ("Ringing", "Answered", "Hung up", "Call record"):
            expect(entries.get_by_text(event_type).first).to_be_visible()
        screenshot(page, "calls-activity")

    tab.run(steps)
