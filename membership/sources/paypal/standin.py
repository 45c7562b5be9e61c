"""A stand-in for PayPal's certificates: a CA, PayPal-named certificates, a loopback HTTPS
server that serves them. For `flask paypal simulate` and the tests; no Flask here.

PayPal signs with a private key only PayPal holds, so simulated deliveries are signed by a
certificate this module issues to PayPal's message verification name. A service trusts it
only when pointed at it (PAYPAL_CA_BUNDLE = the stand-in CA, PAYPAL_CERT_HOSTS = the
loopback server); with PayPal's defaults it refuses such deliveries, as it must.
"""

from __future__ import annotations

import ipaddress
import ssl
import tempfile
import threading
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from .certificates import SUBJECTS

PAYPAL_SUBJECT = SUBJECTS[0]
CERT_PATH = "/v1/notifications/certs/CERT-simulator"


@dataclass(frozen=True)
class Issued:
    """A certificate and its private key."""

    certificate: x509.Certificate
    key: rsa.RSAPrivateKey

    @property
    def pem(self) -> bytes:
        return self.certificate.public_bytes(serialization.Encoding.PEM)

    @property
    def key_pem(self) -> bytes:
        return self.key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )


def _key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def make_ca(name: str = "Membership test CA", *, now: datetime | None = None) -> Issued:
    """A certificate authority to issue stand-in certificates with."""
    now = now or datetime.now(UTC)
    key = _key()
    certificate = (
        x509.CertificateBuilder()
        .subject_name(_name(name))
        .issuer_name(_name(name))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=3650))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(False, False, False, False, False, True, True, False, False),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), False)
        .sign(key, hashes.SHA256())
    )
    return Issued(certificate, key)


def issue(
    ca: Issued,
    names: tuple[str, ...] = (PAYPAL_SUBJECT,),
    *,
    not_before: datetime | None = None,
    not_after: datetime | None = None,
) -> Issued:
    """A server certificate for ``names`` (DNS names or IP addresses), signed by ``ca``."""
    now = datetime.now(UTC)
    key = _key()
    alternatives: list[x509.GeneralName] = []
    for name in names:
        try:
            alternatives.append(x509.IPAddress(ipaddress.ip_address(name)))
        except ValueError:
            alternatives.append(x509.DNSName(name))
    certificate = (
        x509.CertificateBuilder()
        .subject_name(_name(names[0]))
        .issuer_name(ca.certificate.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before or now - timedelta(days=1))
        .not_valid_after(not_after or now + timedelta(days=365))
        .add_extension(x509.SubjectAlternativeName(alternatives), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.ExtendedKeyUsage(
                [ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH]
            ),
            critical=False,
        )
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca.key.public_key()), False
        )
        .sign(ca.key, hashes.SHA256())
    )
    return Issued(certificate, key)


class CertServer:
    """A loopback HTTPS server serving PEM files by path, as PayPal serves its certificates.

    ``with CertServer(ca, {"/v1/notifications/certs/CERT-1": pem}) as server:`` then
    ``server.url("/v1/notifications/certs/CERT-1")``; ``server.host`` is its host:port.
    """

    def __init__(self, ca: Issued, files: dict[str, bytes], port: int = 0) -> None:
        self.files = dict(files)
        self.requests: list[str] = []
        tls = issue(ca, ("127.0.0.1", "localhost"))
        self._dir = tempfile.TemporaryDirectory()
        cert_file, key_file = Path(self._dir.name, "cert.pem"), Path(self._dir.name, "key.pem")
        cert_file.write_bytes(tls.pem)
        key_file.write_bytes(tls.key_pem)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(cert_file, key_file)
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - http.server's name
                server.requests.append(self.path)
                pem = server.files.get(self.path)
                self.send_response(200 if pem is not None else 404)
                self.send_header("Content-Type", "application/x-pem-file")
                self.end_headers()
                self.wfile.write(pem or b"not found")

            def log_message(self, *args: Any) -> None:
                pass

        self._httpd = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self._httpd.socket = context.wrap_socket(self._httpd.socket, server_side=True)
        self.host = f"127.0.0.1:{self._httpd.server_address[1]}"
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)

    def url(self, path: str) -> str:
        return f"https://{self.host}{path}"

    def __enter__(self) -> CertServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        self._dir.cleanup()


def saved(folder: Path) -> tuple[Issued, Issued]:
    """The stand-in CA and PayPal-named signer kept in ``folder`` (made on first use)."""
    folder.mkdir(parents=True, exist_ok=True)
    files = [folder / name for name in ("ca.pem", "ca-key.pem", "signer.pem", "signer-key.pem")]
    if not all(path.exists() for path in files):
        ca = make_ca("Membership PayPal simulator CA (not PayPal)")
        signer = issue(ca)
        for path, data in zip(files, (ca.pem, ca.key_pem, signer.pem, signer.key_pem), strict=True):
            path.write_bytes(data)
            path.chmod(0o600)
    pems = [path.read_bytes() for path in files]

    def load(cert: bytes, key: bytes) -> Issued:
        private = serialization.load_pem_private_key(key, password=None)
        assert isinstance(private, rsa.RSAPrivateKey)
        return Issued(x509.load_pem_x509_certificate(cert), private)

    return load(pems[0], pems[1]), load(pems[2], pems[3])
