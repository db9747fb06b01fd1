"""SeaweedFS in `weed mini` mode: the S3 API the pipeline and the Kafka log are stored in.

Only the S3 API serves data, and only to the configured keys. `weed mini` also runs a master,
a volume server, a filer and an admin server, each with an HTTP and a gRPC port; out of the
box the filer reads, writes and deletes every bucket for anyone, and the master hands out
write tokens and deletes collections (buckets). So, from security.toml in the server's folder:
- every gRPC port, and the master's and the filer's HTTP, take only clients presenting a
  certificate of the stack dir's own authority (mutual TLS, infra/tls.py);
- the filer and the volume server also want a token signed with keys of this start for every
  read and write (JWT), which only the S3 gateway and the master (behind TLS) make;
- the volume server's and filer's web UIs and directory listings are off.
What stays open without credentials: the volume server's /status and the admin server's
/health and /metrics (sizes and bucket names, no data). WebDAV, Iceberg and Lance are off.
"""

from __future__ import annotations

import json
import secrets

from adapters.s3 import make_s3_client
from infra.private import private_dir, write_private
from infra.processes import port_open
from infra.programs import weed_binary
from infra.schemas import ensure_bucket
from infra.server import Server
from infra.tls import TlsFiles, make_certificates
from settings import Settings

PROBE_BUCKET = "local-stack-probe"

# weed mini's other ports, as offsets from the S3 port (8333: 8334 to 8342), so that a second
# instance on another S3 port clashes with nothing.
SIDE_PORTS = {
    "master.port": 1,
    "volume.port": 2,
    "filer.port": 3,
    "admin.port": 4,
    "master.port.grpc": 5,
    "volume.port.grpc": 6,
    "filer.port.grpc": 7,
    "s3.port.grpc": 8,
    "admin.port.grpc": 9,
}
# Components whose gRPC server (or client) presents the stack's certificate.
GRPC_COMPONENTS = ("master", "volume", "filer", "s3", "admin", "worker", "client")
JWT_SECTIONS = ("jwt.signing", "jwt.signing.read", "jwt.filer_signing", "jwt.filer_signing.read")
TOKEN_LIFETIME_S = 10


def security_toml(tls: TlsFiles) -> str:
    """weed's security.toml: fresh JWT signing keys, mutual TLS, no UIs or listings."""
    lines = []
    for section in JWT_SECTIONS:
        lines += [
            f"[{section}]",
            f'key = "{secrets.token_hex(32)}"',
            f"expires_after_seconds = {TOKEN_LIFETIME_S}",
        ]
    lines += ["[access]", "ui = false", "[filer.expose_directory_metadata]", "enabled = false"]
    lines += ["[grpc]", f'ca = "{tls.ca}"']
    for component in GRPC_COMPONENTS:
        lines += [f"[grpc.{component}]", f'cert = "{tls.cert}"', f'key = "{tls.key}"']
    # The volume server keeps plain HTTP: weed's S3 gateway writes to it only over http://.
    for server in ("master", "filer"):
        lines += [f"[https.{server}]", f'cert = "{tls.cert}"', f'key = "{tls.key}"']
        lines += [f'ca = "{tls.ca}"']
    return "\n".join(lines) + "\n"


class SeaweedFS(Server):
    """S3 on the port of Settings.s3.endpoint_url, one identity with the configured keys.

    Its other ports (SIDE_PORTS) are on loopback and refuse clients without the stack's
    certificate or a signed token; see the module's docstring.
    """

    name = "s3"

    def __init__(self, settings: Settings):
        super().__init__(settings)
        s3_port = self.address[1]
        self.side_ports = {option: s3_port + offset for option, offset in SIDE_PORTS.items()}

    @property
    def url(self) -> str:
        return self.settings.s3.endpoint_url

    def prepare(self) -> None:
        (self.home / "data").mkdir(exist_ok=True)
        credentials = {
            "accessKey": self.settings.s3.access_key,
            "secretKey": self.settings.s3.secret_key,
        }
        identity = {
            "name": "pipeline",
            "credentials": [credentials],
            "actions": ["Admin", "Read", "List", "Tagging", "Write"],
        }
        write_private(self.home / "s3.json", json.dumps({"identities": [identity]}))
        tls = make_certificates(private_dir(self.home / "tls"), "seaweedfs")
        # weed reads ./security.toml: the server runs in this folder.
        write_private(self.home / "security.toml", security_toml(tls))

    def command(self) -> tuple[list[str], dict[str, str]]:
        argv = [
            str(weed_binary()),
            "mini",
            f"-dir={self.home / 'data'}",
            "-ip=127.0.0.1",
            "-ip.bind=127.0.0.1",
            f"-s3.port={self.address[1]}",
            *(f"-{option}={port}" for option, port in self.side_ports.items()),
            f"-s3.config={self.home / 's3.json'}",
            "-webdav=false",
            "-admin.ui=false",
            "-s3.port.iceberg=0",
            "-s3.port.lance=0",
            "-master.telemetry=false",
        ]
        return argv, {}

    def is_ready(self) -> bool:
        """A write and a read back: listing works ~1 s before reads do after a restart."""
        if not port_open(*self.address):
            return False
        s3 = make_s3_client(self.settings.s3)
        ensure_bucket(s3, PROBE_BUCKET)
        s3.put_object(Bucket=PROBE_BUCKET, Key="probe", Body=b"ready")
        return s3.get_object(Bucket=PROBE_BUCKET, Key="probe")["Body"].read() == b"ready"
