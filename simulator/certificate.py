"""A throw-away self-signed certificate, like the one a Yeastar PBX ships with."""

from dataclasses import dataclass
import datetime as dt
import hashlib
import ipaddress
from pathlib import Path
import ssl
import tempfile

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.types import PrivateKeyTypes
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID


@dataclass(frozen=True, slots=True)
class SimCertificate:
    """PEM material and the SHA-256 fingerprint a client pins instead of a CA."""

    cert_pem: bytes
    key_pem: bytes
    fingerprint: str

    def server_ssl_context(self) -> ssl.SSLContext:
        """Build the context the simulator serves HTTPS with."""
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        # load_cert_chain only reads files; a private temporary directory keeps the key unshared.
        with tempfile.TemporaryDirectory() as directory:
            cert_file = Path(directory, "cert.pem")
            key_file = Path(directory, "key.pem")
            cert_file.write_bytes(self.cert_pem)
            key_file.write_bytes(self.key_pem)
            context.load_cert_chain(cert_file, key_file)
        return context

    def client_ssl_context(self) -> ssl.SSLContext:
        """Build a client context that trusts exactly this certificate (full verification)."""
        return ssl.create_default_context(cadata=self.cert_pem.decode())


def generate_certificate(common_name: str = "yeastar-simulator") -> SimCertificate:
    """Create a fresh EC certificate valid for 127.0.0.1 and localhost."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    now = dt.datetime.now(dt.UTC)
    public_key = key.public_key()
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=3650))
        .add_extension(
            x509.SubjectAlternativeName(
                [
                    x509.DNSName("localhost"),
                    x509.IPAddress(ipaddress.IPv4Address("127.0.0.1")),
                ]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False
        )
        .add_extension(
            x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False
        )
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(public_key),
            critical=False,
        )
        .sign(key, hashes.SHA256())
    )
    return _sim_certificate(certificate, key)


def load_or_create_certificate(path: Path) -> SimCertificate:
    """Return the certificate and key kept in the PEM file ``path``, made there if missing.

    A kept certificate keeps its fingerprint across starts, so the one Home Assistant
    pinned stays valid.
    """
    if not path.exists():
        certificate = generate_certificate()
        path.touch(mode=0o600)
        path.write_bytes(certificate.cert_pem + certificate.key_pem)
        return certificate
    pem = path.read_bytes()
    return _sim_certificate(
        x509.load_pem_x509_certificate(pem),
        serialization.load_pem_private_key(pem, password=None),
    )


def _sim_certificate(
    certificate: x509.Certificate, key: PrivateKeyTypes
) -> SimCertificate:
    """Serialize a certificate and its key as PEM, with the certificate's fingerprint."""
    return SimCertificate(
        cert_pem=certificate.public_bytes(serialization.Encoding.PEM),
        key_pem=key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ),
        fingerprint=hashlib.sha256(
            certificate.public_bytes(serialization.Encoding.DER)
        ).hexdigest(),
    )
