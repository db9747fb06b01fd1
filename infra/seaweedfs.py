"""SeaweedFS in `weed mini` mode: the S3 API the pipeline and the Kafka log are stored in."""

from __future__ import annotations

import json

from adapters.s3 import make_s3_client
from infra.install import weed_binary
from infra.processes import port_open
from infra.schemas import ensure_bucket
from infra.server import Server

PROBE_BUCKET = "local-stack-probe"


class SeaweedFS(Server):
    """S3 on the port of Settings.s3.endpoint_url, one identity with the configured keys.

    weed mini also opens its master (9333), filer (8888) and a few other ports on loopback.
    """

    name = "s3"

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
        config = self.home / "s3.json"
        config.touch(mode=0o600)
        config.write_text(json.dumps({"identities": [identity]}))

    def command(self) -> tuple[list[str], dict[str, str]]:
        argv = [
            str(weed_binary()),
            "mini",
            f"-dir={self.home / 'data'}",
            "-ip=127.0.0.1",
            "-ip.bind=127.0.0.1",
            f"-s3.port={self.address[1]}",
            f"-s3.config={self.home / 's3.json'}",
            "-webdav=false",
            "-admin.ui=false",
            "-s3.port.iceberg=0",
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
