"""PayPal's signing certificates: fetched from an allowed HTTPS host, chain checked, cached.

No Flask here. A delivery names the certificate it was signed with by URL
(``PAYPAL-TRANSMISSION-CERT-URL`` / ``PAYPAL-CERT-URL``). Anyone can send any URL, so a
certificate is used only if: the URL is https on a host[:port] in PAYPAL_CERT_HOSTS; the
HTTPS server itself is trusted by PAYPAL_CA_BUNDLE (or the system's store); the certificate
chains to that same trust store; it is valid now; and it was issued to PayPal's message
verification name. The fetched PEM is cached per URL (PayPal reuses one certificate for a
year); the chain and dates are checked again on every use, so the cache never outlives a
certificate's validity.
"""

from __future__ import annotations

import functools
import re
import ssl
import threading
import urllib.error
import urllib.request
import warnings
from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlsplit

from cryptography import x509
from cryptography.utils import CryptographyDeprecationWarning
from cryptography.x509 import verification

# The names PayPal issues its webhook signing certificates to (live, and sandbox).
SUBJECTS = ("messageverificationcerts.paypal.com", "messageverificationcerts.sandbox.paypal.com")
# A certificate is a few KB; the chain PayPal serves, two or three of them.
MAX_PEM_BYTES = 64 * 1024
FETCH_TIMEOUT_SECONDS = 10
CACHE_SIZE = 32  # PayPal rotates certificates yearly: a handful of URLs in use at once


_PEM_BLOCK = re.compile(rb"-----BEGIN CERTIFICATE-----.+?-----END CERTIFICATE-----", re.DOTALL)


class BadCertificate(ValueError):
    """The delivery names a certificate that is not PayPal's: refused with 400."""


class CertificateUnavailable(RuntimeError):
    """The certificate could not be fetched now (network, PayPal down): 503, PayPal retries."""


@dataclass(frozen=True)
class Trust:
    """Where certificates may come from, and what they must chain to."""

    hosts: tuple[str, ...]  # host[:port], lower case
    ca_bundle: str | None = None  # a PEM file; None for the system's trust store


def _host_of(url: str) -> str:
    parts = urlsplit(url)
    if parts.scheme != "https":
        raise BadCertificate("the certificate URL is not https")
    if parts.username or parts.password or not parts.hostname:
        raise BadCertificate("the certificate URL has no plain host")
    try:
        port = parts.port
    except ValueError:
        raise BadCertificate("the certificate URL has a malformed port") from None
    host = parts.hostname.lower()
    return host if port in (None, 443) else f"{host}:{port}"


def check_url(url: str, trust: Trust) -> None:
    """BadCertificate unless ``url`` is https on an allowed host[:port]."""
    host = _host_of(url)
    allowed = set(trust.hosts) | {f"{h}:443" for h in trust.hosts if ":" not in h}
    if host not in allowed:
        raise BadCertificate(f"the certificate URL's host {host} is not in PAYPAL_CERT_HOSTS")


def _trust_store(trust: Trust) -> verification.Store:
    path = trust.ca_bundle or _system_bundle()
    if not path:
        raise CertificateUnavailable("no system CA bundle found: set PAYPAL_CA_BUNDLE")
    return _store(path)


def _system_bundle() -> str | None:
    """The system's PEM trust store, as OpenSSL finds it (SSL_CERT_FILE included), else
    certifi's if it is installed."""
    found = ssl.get_default_verify_paths().cafile
    if found:
        return found
    try:
        import certifi
    except ImportError:
        return None
    return certifi.where()


@functools.lru_cache(maxsize=4)
def _store(path: str) -> verification.Store:
    """The certificates of a PEM bundle, read once per process (a system store holds ~150).

    Each is loaded on its own: a system store can hold an old root that breaks RFC 5280 (a
    negative serial number), which cryptography warns about now and will refuse later; such a
    root is skipped rather than making every PayPal delivery fail.
    """
    try:
        with open(path, "rb") as handle:
            blocks = _PEM_BLOCK.findall(handle.read())
    except OSError as exc:
        raise CertificateUnavailable(f"cannot read the CA bundle {path}: {exc}") from None
    roots = []
    for block in blocks:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", CryptographyDeprecationWarning)
            try:
                roots.append(x509.load_pem_x509_certificate(block))
            except ValueError:
                continue
    if not roots:
        raise CertificateUnavailable(f"the CA bundle {path} holds no certificate")
    return verification.Store(roots)


class CertificateCache:
    """Fetched certificate chains by URL, at most ``size`` of them, safe across threads."""

    def __init__(self, size: int = CACHE_SIZE) -> None:
        self.size = size
        self._pems: OrderedDict[tuple[str, str | None], bytes] = OrderedDict()
        self._lock = threading.Lock()
        self.fetches = 0

    def pem(self, url: str, trust: Trust) -> bytes:
        key = (url, trust.ca_bundle)
        with self._lock:
            if key in self._pems:
                self._pems.move_to_end(key)
                return self._pems[key]
        pem = _fetch(url, trust)
        with self._lock:
            self.fetches += 1
            self._pems[key] = pem
            while len(self._pems) > self.size:
                self._pems.popitem(last=False)
        return pem

    def certificate(self, url: str, trust: Trust, now: datetime) -> x509.Certificate:
        """The verified signing certificate at ``url``: BadCertificate if it is not PayPal's,
        CertificateUnavailable if it cannot be fetched now."""
        check_url(url, trust)
        return verified(self.pem(url, trust), trust, now)

    def clear(self) -> None:
        with self._lock:
            self._pems.clear()


def _fetch(url: str, trust: Trust) -> bytes:
    context = ssl.create_default_context(cafile=trust.ca_bundle)
    # No redirects: a redirect could lead off the allowed hosts.
    opener = urllib.request.build_opener(
        urllib.request.HTTPSHandler(context=context), _NoRedirect()
    )
    try:
        with opener.open(url, timeout=FETCH_TIMEOUT_SECONDS) as response:
            pem = response.read(MAX_PEM_BYTES + 1)
    except urllib.error.HTTPError as exc:
        if 400 <= exc.code < 500:
            raise BadCertificate(f"the certificate URL answered {exc.code}") from None
        raise CertificateUnavailable(f"the certificate URL answered {exc.code}") from None
    except ssl.SSLCertVerificationError as exc:
        raise BadCertificate(f"the certificate host is not trusted: {exc}") from None
    except (OSError, urllib.error.URLError) as exc:
        raise CertificateUnavailable(f"could not fetch the certificate: {exc}") from None
    if len(pem) > MAX_PEM_BYTES:
        raise BadCertificate("the certificate URL served more than a certificate chain")
    return pem


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None


def verified(pem: bytes, trust: Trust, now: datetime) -> x509.Certificate:
    """The leaf of a PEM chain, once it chains to the trust store, is valid at ``now`` and
    names one of PayPal's message verification subjects."""
    try:
        chain = x509.load_pem_x509_certificates(pem)
    except ValueError:
        raise BadCertificate("the certificate URL did not serve a PEM certificate") from None
    leaf, intermediates = chain[0], chain[1:]
    store = _trust_store(trust)
    last = "no subject matched"
    for subject in SUBJECTS:
        verifier = (
            verification.PolicyBuilder()
            .store(store)
            .time(now)
            .build_server_verifier(x509.DNSName(subject))
        )
        try:
            verifier.verify(leaf, intermediates)
            return leaf
        except verification.VerificationError as exc:
            last = str(exc)
    raise BadCertificate(f"the certificate is not PayPal's: {last}")
