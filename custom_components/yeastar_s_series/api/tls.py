"""TLS choices for a PBX that usually ships a self-signed certificate.

Three modes: verify against the system CAs, trust whatever the PBX shows, or pin
the SHA-256 fingerprint of its certificate (trust on first use without CA checks).
"""

import asyncio
import contextlib
import hashlib
import re
import ssl

from aiohttp import Fingerprint

from .exceptions import YeastarConnectionError, YeastarTimeoutError, YeastarTlsError

_HEX_DIGEST = re.compile(r"[0-9a-f]{64}")

# Built once at import: creating SSL contexts reads files, which must not happen in an event loop.
_UNVERIFIED_CONTEXT = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
_UNVERIFIED_CONTEXT.check_hostname = False
_UNVERIFIED_CONTEXT.verify_mode = ssl.CERT_NONE


def normalize_fingerprint(fingerprint: str) -> str:
    """Return the fingerprint as 64 lowercase hex digits ("AB:CD:..." is accepted)."""
    digest = fingerprint.replace(":", "").replace(" ", "").lower()
    if not _HEX_DIGEST.fullmatch(digest):
        raise ValueError("A SHA-256 fingerprint has 64 hexadecimal digits")
    return digest


def aiohttp_ssl(*, verify: bool, fingerprint: str | None) -> bool | Fingerprint:
    """Return the `ssl=` argument aiohttp needs for the chosen mode; a pin wins over verification."""
    if fingerprint is not None:
        return Fingerprint(bytes.fromhex(normalize_fingerprint(fingerprint)))
    return verify


async def fetch_certificate_fingerprint(
    host: str, port: int, *, timeout: float = 10.0
) -> str:
    """Connect once and return the SHA-256 fingerprint of the certificate the PBX shows."""
    try:
        async with asyncio.timeout(timeout):
            _, writer = await asyncio.open_connection(
                host, port, ssl=_UNVERIFIED_CONTEXT
            )
    except TimeoutError:
        raise YeastarTimeoutError("The PBX did not answer in time") from None
    except ssl.SSLError:
        raise YeastarTlsError("The PBX did not complete a TLS handshake") from None
    except OSError:
        raise YeastarConnectionError("Could not connect to the PBX") from None
    try:
        ssl_object = writer.get_extra_info("ssl_object")
        der = ssl_object.getpeercert(binary_form=True) if ssl_object else None
    finally:
        writer.close()
        with contextlib.suppress(OSError, ssl.SSLError):
            await writer.wait_closed()
    if not der:
        raise YeastarTlsError("The PBX showed no certificate")
    return hashlib.sha256(der).hexdigest()
