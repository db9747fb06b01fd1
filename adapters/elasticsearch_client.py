"""The official Elasticsearch 9.x client, made to also talk to the 7.x server of the local stack."""

from __future__ import annotations

import base64
import json
import re
import urllib.request

from elastic_transport import Urllib3HttpNode
from elasticsearch import Elasticsearch

_VENDOR_TYPE = re.compile(r"application/vnd\.elasticsearch\+([\w-]+);\s*compatible-with=\d+")


class LegacyServerNode(Urllib3HttpNode):
    """Sends plain JSON media types and marks responses as Elasticsearch, as servers < 8 expect."""

    def perform_request(self, method, target, body=None, headers=None, **kwargs):
        if headers:
            headers = {name: _VENDOR_TYPE.sub(r"application/\1", v) for name, v in headers.items()}
        response = super().perform_request(method, target, body=body, headers=headers, **kwargs)
        response.meta.headers["x-elastic-product"] = "Elasticsearch"
        return response


def server_major_version(url: str, basic_auth: tuple[str, str] | None = None) -> int:
    """The major version the server at `url` reports on GET /."""
    request = urllib.request.Request(url)
    if basic_auth is not None:
        token = base64.b64encode(":".join(basic_auth).encode()).decode()
        request.add_header("Authorization", f"Basic {token}")
    with urllib.request.urlopen(request, timeout=10) as response:
        return int(json.load(response)["version"]["number"].split(".")[0])


def make_elasticsearch_client(
    url: str, basic_auth: tuple[str, str] | None = None
) -> Elasticsearch:
    """Return a client for `url`; servers older than 8 get the LegacyServerNode translation.

    `basic_auth` is (username, password) for a server with security on (Settings'
    elasticsearch_auth), None for one without.
    """
    if server_major_version(url, basic_auth) < 8:
        return Elasticsearch(url, node_class=LegacyServerNode, basic_auth=basic_auth)
    return Elasticsearch(url, basic_auth=basic_auth)
