"""The clock tests move and the self-signed certificate."""

import hashlib
import ipaddress
import time

from cryptography import x509
from cryptography.hazmat.primitives import serialization
import pytest

from simulator import SimClock, generate_certificate


def test_clock_follows_its_base_plus_an_offset() -> None:
    """Advancing moves the offset; the base is read on every call."""
    readings = iter([100.0, 200.0])
    clock = SimClock(lambda: next(readings))
    clock.advance(5)
    assert clock.now() == 105.0
    assert clock.now() == 205.0


def test_clock_reads_time_time_at_call_time(monkeypatch: pytest.MonkeyPatch) -> None:
    """The default base is looked up late, so freezegun-style patches move it."""
    clock = SimClock()
    monkeypatch.setattr(time, "time", lambda: 1000.0)
    clock.advance(1801)
    assert clock.now() == 2801.0


def test_certificate() -> None:
    """Self-signed, for 127.0.0.1 and localhost, with the DER SHA-256 as fingerprint."""
    certificate = generate_certificate("pbx.test")
    cert = x509.load_pem_x509_certificate(certificate.cert_pem)
    assert cert.subject == cert.issuer
    assert cert.subject.rfc4514_string() == "CN=pbx.test"
    san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert san.get_values_for_type(x509.DNSName) == ["localhost"]
    assert san.get_values_for_type(x509.IPAddress) == [
        ipaddress.ip_address("127.0.0.1")
    ]
    der = cert.public_bytes(serialization.Encoding.DER)
    assert certificate.fingerprint == hashlib.sha256(der).hexdigest()
    assert certificate.key_pem.startswith(b"-----BEGIN PRIVATE KEY-----")
    assert generate_certificate().fingerprint != certificate.fingerprint
