"""SeaweedFS serves data only through S3 with the keys: its other ports refuse anyone else.

A SeaweedFS of this module's own (a free S3 port, the side ports after it, its own stack dir)
runs the configuration of infra/seaweedfs.py, whatever other instance the session shares.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import http.client
import json
import shutil
import socket
import ssl
import tempfile
import time
import tomllib
import uuid
from dataclasses import replace
from pathlib import Path
from urllib.parse import urlsplit

import boto3
import pytest
from botocore import UNSIGNED
from botocore.config import Config
from botocore.exceptions import ClientError

from adapters.s3 import make_s3_client
from infra.processes import free_port_block
from infra.seaweedfs import SIDE_PORTS, SeaweedFS
from infra.stack import LocalStack

OBJECT = b"field photo " * 20_000  # big enough to live on the volume server, not in the filer
TLS_PORTS = ("master.port", "filer.port", *(name for name in SIDE_PORTS if name.endswith("grpc")))


@pytest.fixture(scope="module")
def seaweed(s3_stack):
    """The running SeaweedFS of this module, holding OBJECT at (bucket, key)."""
    stack_dir = Path(tempfile.mkdtemp(prefix="seaweed-"))
    port = free_port_block(1 + len(SIDE_PORTS))
    s3 = replace(s3_stack.s3, endpoint_url=f"http://127.0.0.1:{port}")
    settings = replace(s3_stack, stack_dir=str(stack_dir), s3=s3)
    stack = LocalStack(settings)
    stack.up(["s3"])
    server = SeaweedFS(settings)
    bucket, key = urlsplit(settings.dataset_root).netloc, f"photos/{uuid.uuid4().hex}.jpg"
    make_s3_client(s3).put_object(Bucket=bucket, Key=key, Body=OBJECT)
    try:
        yield server, bucket, key
    finally:
        stack.down()
        shutil.rmtree(stack_dir, ignore_errors=True)


def port_of(server: SeaweedFS, name: str) -> int:
    return server.side_ports[name]


def stored(server: SeaweedFS, bucket: str, key: str) -> bytes:
    s3 = make_s3_client(server.settings.s3)
    return s3.get_object(Bucket=bucket, Key=key)["Body"].read()


def plain_http(port: int, method: str, path: str) -> int:
    """The status of a request without credentials; 0 if the server answers none."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        connection.request(method, path, body=b"overwritten" if method in ("PUT", "POST") else None)
        return connection.getresponse().status
    except (OSError, http.client.HTTPException):
        return 0
    finally:
        connection.close()


def tls_context(server: SeaweedFS, with_certificate: bool) -> ssl.SSLContext:
    tls = server.home / "tls"
    context = ssl.create_default_context(cafile=str(tls / "ca.crt"))
    if with_certificate:
        context.load_cert_chain(tls / "seaweedfs.crt", tls / "seaweedfs.key")
    return context


def token(key: str, claims: dict) -> str:
    """An HS256 JSON Web Token, as weed's S3 gateway and master sign them."""

    def part(data: bytes) -> bytes:
        return base64.urlsafe_b64encode(data).rstrip(b"=")

    header = json.dumps({"alg": "HS256", "typ": "JWT"}).encode()
    body = json.dumps({**claims, "exp": int(time.time()) + 10}).encode()
    message = part(header) + b"." + part(body)
    signature = hmac.new(key.encode(), message, hashlib.sha256).digest()
    return (message + b"." + part(signature)).decode()


def signing_keys(server: SeaweedFS) -> dict:
    return tomllib.loads((server.home / "security.toml").read_text())["jwt"]


def https_get(server: SeaweedFS, port: int, path: str, bearer: str | None) -> tuple[int, bytes]:
    """GET over TLS with the stack's own client certificate."""
    context = tls_context(server, with_certificate=True)
    connection = http.client.HTTPSConnection("127.0.0.1", port, timeout=5, context=context)
    headers = {"Authorization": f"Bearer {bearer}"} if bearer else {}
    try:
        connection.request("GET", path, headers=headers)
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


def file_id(server: SeaweedFS, bucket: str, key: str) -> str:
    """Where the object's bytes are on the volume server, asked as weed's own S3 gateway would."""
    bearer = token(signing_keys(server)["filer_signing"]["read"]["key"], {})
    path = f"/buckets/{bucket}/{key}?metadata=true"
    status, body = https_get(server, port_of(server, "filer.port"), path, bearer)
    assert status == 200, body
    [chunk] = json.loads(body)["chunks"]
    return chunk["file_id"]


def test_s3_with_the_keys_writes_reads_lists_and_deletes(seaweed):
    server, bucket, _ = seaweed
    s3 = make_s3_client(server.settings.s3)
    s3.put_object(Bucket=bucket, Key="keys/work.txt", Body=b"yes")
    assert s3.get_object(Bucket=bucket, Key="keys/work.txt")["Body"].read() == b"yes"
    listed = s3.list_objects_v2(Bucket=bucket, Prefix="keys/")["Contents"]
    assert [item["Key"] for item in listed] == ["keys/work.txt"]
    s3.delete_object(Bucket=bucket, Key="keys/work.txt")
    assert s3.list_objects_v2(Bucket=bucket, Prefix="keys/").get("Contents") is None


def test_s3_without_the_keys_reads_writes_lists_and_deletes_nothing(seaweed):
    server, bucket, key = seaweed
    anonymous = boto3.client(
        "s3",
        endpoint_url=server.settings.s3.endpoint_url,
        region_name=server.settings.s3.region,
        config=Config(signature_version=UNSIGNED, retries={"max_attempts": 1}),
    )
    attempts = [
        lambda: anonymous.list_objects_v2(Bucket=bucket),
        lambda: anonymous.get_object(Bucket=bucket, Key=key),
        lambda: anonymous.put_object(Bucket=bucket, Key=key, Body=b"overwritten"),
        lambda: anonymous.delete_object(Bucket=bucket, Key=key),
        lambda: anonymous.delete_bucket(Bucket=bucket),
    ]
    for attempt in attempts:
        with pytest.raises(ClientError) as refused:
            attempt()
        assert refused.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
    assert stored(server, bucket, key) == OBJECT


def socket_inodes(pid: int) -> set[str]:
    """The inodes of the process's open sockets; a descriptor closed while we look is skipped."""
    inodes = set()
    for link in Path(f"/proc/{pid}/fd").iterdir():
        try:
            target = link.readlink().name
        except FileNotFoundError:
            continue
        if target.startswith("socket:"):
            inodes.add(target[len("socket:[") : -1])
    return inodes


def test_weed_listens_on_loopback_only_on_its_s3_port_and_the_side_ports_it_was_given(seaweed):
    server, _, _ = seaweed
    inodes = socket_inodes(server.process.pid())
    listening = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            if fields[3] == "0A" and fields[9] in inodes:  # LISTEN
                address, port = fields[1].split(":")
                listening.add((address, int(port, 16)))
    loopback = "0100007F"  # 127.0.0.1, as /proc/net/tcp writes it
    ports = [server.address[1], *server.side_ports.values()]
    assert listening == {(loopback, port) for port in ports}


def test_no_side_port_reads_writes_lists_or_deletes_without_credentials(seaweed):
    server, bucket, key = seaweed
    fid = file_id(server, bucket, key)
    requests = [
        ("GET", f"/buckets/{bucket}/{key}"),
        ("GET", f"/buckets/{bucket}/"),
        ("PUT", f"/buckets/{bucket}/{key}"),
        ("POST", f"/buckets/{bucket}/new.jpg"),
        ("DELETE", f"/buckets/{bucket}/{key}"),
        ("DELETE", f"/buckets/{bucket}?recursive=true"),
        ("GET", f"/{fid}"),
        ("POST", f"/{fid}"),
        ("DELETE", f"/{fid}"),
        ("GET", "/dir/assign"),
        ("GET", f"/dir/lookup?fileId={fid}"),
        ("GET", f"/col/delete?collection={bucket}"),
        ("POST", "/submit"),
    ]
    answered = {
        (name, method, path): plain_http(port, method, path)
        for name, port in server.side_ports.items()
        for method, path in requests
    }

    assert not {request: status for request, status in answered.items() if 200 <= status < 300}
    assert stored(server, bucket, key) == OBJECT


def test_tls_ports_refuse_clients_without_the_stacks_certificate(seaweed):
    server, _, _ = seaweed
    context = tls_context(server, with_certificate=False)
    for name in TLS_PORTS:
        with (
            pytest.raises((ssl.SSLError, ConnectionError)),
            socket.create_connection(("127.0.0.1", port_of(server, name)), timeout=5) as raw,
            context.wrap_socket(raw, server_hostname="127.0.0.1") as connection,
        ):
            connection.sendall(b"GET / HTTP/1.1\r\nHost: weed\r\n\r\n")
            connection.recv(1)  # TLS 1.3 reports the missing certificate here


def test_even_with_the_certificate_the_filer_and_volume_want_signed_tokens(seaweed):
    server, bucket, key = seaweed
    fid = file_id(server, bucket, key)  # with the certificate and a filer token: found
    filer, volume = port_of(server, "filer.port"), port_of(server, "volume.port")

    assert https_get(server, filer, f"/buckets/{bucket}/{key}", bearer=None)[0] == 401
    assert plain_http(volume, "GET", f"/{fid}") == 401
    read_token = token(signing_keys(server)["signing"]["read"]["key"], {"fid": fid})
    connection = http.client.HTTPConnection("127.0.0.1", volume, timeout=5)
    connection.request("GET", f"/{fid}", headers={"Authorization": f"Bearer {read_token}"})
    response = connection.getresponse()
    assert response.status == 200  # the same request, signed as the S3 gateway signs it
    connection.close()
