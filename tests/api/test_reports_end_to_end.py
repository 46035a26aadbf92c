"""Reports the simulator posts, in the format each login asked for, parse as that format."""

from collections import defaultdict

import aiohttp
from aiohttp import web

from custom_components.yeastar_s_series.api import (
    ApiVersion,
    ReportFormat,
    ReportTarget,
    parse_report,
)
from simulator import Scenario, SimulatedPBX

from .common import PASSWORD, make_client

CALLER = "13800000000"
PATHS = {
    ApiVersion.V2_0_0: ("v2", ReportFormat.V2_0_0),
    ApiVersion.V1_1_0: ("v102", ReportFormat.V1_0_2),
    ApiVersion.V1_0_0: ("v100", ReportFormat.V1_0_0),
}


async def test_simulator_reports_parse_in_every_format(
    session: aiohttp.ClientSession,
) -> None:
    """One login per API version; every body delivered parses, in the right format, with both parties."""
    received: dict[str, list[bytes]] = defaultdict(list)

    async def receive(request: web.Request) -> web.Response:
        received[request.match_info["path"]].append(await request.read())
        return web.Response()

    app = web.Application()
    app.router.add_post("/{path}", receive)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    receiver_port = runner.addresses[0][1]
    try:
        async with SimulatedPBX(
            username="api", password=PASSWORD, report_retry_delay=0.05
        ) as pbx:
            for version, (path, _) in PATHS.items():
                client = make_client(session, pbx.port, version)
                await client.login(ReportTarget("127.0.0.1", receiver_port, path))
            await pbx.play(Scenario.INBOUND_ANSWERED, extension="1001", caller=CALLER)
            await pbx.play(Scenario.FAILED_CALL)
            await (
                pbx.wait_delivered()
            )  # reports go only to sessions still valid at send time
            await pbx.reboot()
            await pbx.wait_delivered()
            serial = pbx.serial
    finally:
        await runner.cleanup()

    for version, (path, report_format) in PATHS.items():
        reports = [parse_report(body) for body in received[path]]
        names = {report.name for report in reports}
        assert {"NewCdr", "CallFailed", "BootUp", "ExtensionStatus"} <= names, version
        assert all(report.format is report_format for report in reports), version
        expected_serial = None if report_format is ReportFormat.V1_0_0 else serial
        assert {report.serial for report in reports} == {expected_serial}, version
        # The ringing report of the inbound call names the caller's trunk leg and the extension.
        ringing = [
            report
            for report in reports
            if {party.kind for party in report.parties} == {"inbound", "ext"}
        ]
        assert ringing, version
        numbers = [party.number for party in ringing[0].parties]
        assert CALLER in numbers and "1001" in numbers, version
        call_ids = {
            report.call_id
            for report in reports
            if report.name not in {"BootUp", "ExtensionStatus"}
        }
        assert None not in call_ids and len(call_ids) == 2, version
