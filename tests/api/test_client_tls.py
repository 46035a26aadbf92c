"""HTTPS with the PBX's self-signed certificate: off, CA verification, and pinning."""

import asyncio
from collections.abc import AsyncIterator
import socket

import aiohttp
import pytest

from custom_components.yeastar_s_series.api import (
    YeastarCertificateChangedError,
    YeastarClient,
    YeastarConnectionError,
    YeastarTimeoutError,
    YeastarTlsError,
    fetch_certificate_fingerprint,
)
from simulator import SimCertificate, SimulatedPBX, generate_certificate

from .common import PASSWORD, PASSWORD_HASH, TARGET


@pytest.fixture(scope="module")
def certificate() -> SimCertificate:
    """Return one self-signed certificate for the module (generating keys takes time)."""
    return generate_certificate()


@pytest.fixture
async def https_pbx(certificate: SimCertificate) -> AsyncIterator[SimulatedPBX]:
    """Run the simulator over HTTPS with its self-signed certificate."""
    async with SimulatedPBX(
        username="api", password=PASSWORD, certificate=certificate, port=0
    ) as pbx:
        yield pbx


def https_client(
    session: aiohttp.ClientSession,
    pbx: SimulatedPBX,
    *,
    verify_tls: bool = False,
    fingerprint: str | None = None,
) -> YeastarClient:
    """Return an HTTPS client for the simulator."""
    return YeastarClient(
        session,
        "127.0.0.1",
        username="api",
        password_hash=PASSWORD_HASH,
        port=pbx.port,
        verify_tls=verify_tls,
        fingerprint=fingerprint,
        request_timeout=5,
    )


def colon_spelling(fingerprint: str) -> str:
    """Spell a fingerprint as browsers show it: AB:CD:..."""
    return ":".join(fingerprint[i : i + 2] for i in range(0, 64, 2)).upper()


async def test_https_without_verification(
    session: aiohttp.ClientSession, https_pbx: SimulatedPBX
) -> None:
    """Verification off: the self-signed PBX is reachable (the default, as on most sites)."""
    client = https_client(session, https_pbx)
    assert client.base_url == https_pbx.base_url

    await client.login(TARGET)

    assert (await client.device_info()).serial == https_pbx.serial


async def test_https_with_verification_refuses_self_signed(
    session: aiohttp.ClientSession, https_pbx: SimulatedPBX
) -> None:
    """Verification on: a self-signed certificate is a TLS error, and nothing is sent."""
    client = https_client(session, https_pbx, verify_tls=True)

    with pytest.raises(YeastarTlsError) as caught:
        await client.login(TARGET)

    assert not isinstance(caught.value, YeastarCertificateChangedError)
    assert https_pbx.stats.login_attempts == 0


@pytest.mark.parametrize("spelling", ["as is", "colons"])
async def test_pinned_fingerprint(
    session: aiohttp.ClientSession, https_pbx: SimulatedPBX, spelling: str
) -> None:
    """The PBX's own fingerprint, in either spelling, lets the client in (even with verify on)."""
    assert https_pbx.certificate is not None
    fingerprint = https_pbx.certificate.fingerprint
    if spelling == "colons":
        fingerprint = colon_spelling(fingerprint)
    client = https_client(session, https_pbx, verify_tls=True, fingerprint=fingerprint)

    await client.login(TARGET)

    assert client.logged_in


async def test_other_fingerprint_is_refused(
    session: aiohttp.ClientSession, https_pbx: SimulatedPBX
) -> None:
    """A certificate other than the pinned one (a replaced PBX, a MITM) is a TLS error."""
    other = generate_certificate().fingerprint
    assert https_pbx.certificate is not None
    assert other != https_pbx.certificate.fingerprint
    client = https_client(session, https_pbx, fingerprint=other)

    with pytest.raises(YeastarCertificateChangedError):
        await client.login(TARGET)

    assert https_pbx.stats.login_attempts == 0
    assert not client.logged_in


async def test_fetch_certificate_fingerprint(https_pbx: SimulatedPBX) -> None:
    """Trust on first use: the fetched fingerprint is the one the PBX serves."""
    assert https_pbx.certificate is not None

    fingerprint = await fetch_certificate_fingerprint("127.0.0.1", https_pbx.port)

    assert fingerprint == https_pbx.certificate.fingerprint


async def test_fetch_fingerprint_of_plain_http_server() -> None:
    """A PBX serving plain HTTP has no certificate to fetch: a TLS error."""
    async with SimulatedPBX(username="api", password=PASSWORD, port=0) as pbx:
        with pytest.raises(YeastarTlsError):
            await fetch_certificate_fingerprint("127.0.0.1", pbx.port, timeout=2)


async def test_fetch_fingerprint_nothing_listening() -> None:
    """Nothing on the port: a connection error."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]

    with pytest.raises(YeastarConnectionError) as caught:
        await fetch_certificate_fingerprint("127.0.0.1", port, timeout=2)

    assert not isinstance(caught.value, YeastarTlsError)


async def test_fetch_fingerprint_times_out() -> None:
    """A server that never completes the handshake times out."""

    async def _silent(
        reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        await reader.read()
        writer.close()

    server = await asyncio.start_server(_silent, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        with pytest.raises(YeastarTimeoutError):
            await fetch_certificate_fingerprint("127.0.0.1", port, timeout=0.2)
    finally:
        server.close()
        server.close_clients()
        await server.wait_closed()
