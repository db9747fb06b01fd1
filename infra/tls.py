"""A certificate authority of one stack dir, and the one certificate it signs for a server.

SeaweedFS's internal ports (gRPC, master and filer HTTP) take only clients presenting a
certificate of this authority: its own components, which read the key from the stack dir.
A fresh authority is made at every start; its private key is never written anywhere.
"""

from __future__ import annotations

import datetime
import ipaddress
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from infra.private import write_private

VALID_FOR = datetime.timedelta(days=3650)


@dataclass(frozen=True)
class TlsFiles:
    """Where the authority's certificate and the server's certificate and key are."""

    ca: Path
    cert: Path
    key: Path


def make_certificates(folder: Path, name: str) -> TlsFiles:
    """Write ca.crt, <name>.crt and <name>.key (0600) into `folder`, for 127.0.0.1/localhost.

    The certificate serves both ends of a connection (server and client authentication).
    """
    now = datetime.datetime.now(datetime.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, f"{name} stack authority")])
    ca = (
        _builder(ca_name, ca_name, ca_key.public_key(), now)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    names = [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
    usages = [ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH]
    cert = (
        _builder(subject, ca_name, key.public_key(), now)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.SubjectAlternativeName(names), critical=False)
        .add_extension(x509.ExtendedKeyUsage(usages), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    files = TlsFiles(folder / "ca.crt", folder / f"{name}.crt", folder / f"{name}.key")
    pem = serialization.Encoding.PEM
    write_private(files.ca, ca.public_bytes(pem).decode())
    write_private(files.cert, cert.public_bytes(pem).decode())
    private = key.private_bytes(
        pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    write_private(files.key, private.decode())
    return files


def _builder(subject: x509.Name, issuer: x509.Name, public_key, now: datetime.datetime):
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + VALID_FOR)
    )

