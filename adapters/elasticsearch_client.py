"""The official Elasticsearch 9.x client, made to also talk to the 7.x server of the local stack.

Making a client asks the server nothing: a server that is down is found by the first request
(`ping()` answers False, any other call raises elastic_transport.ConnectionError), so a command
can say so in words, and a long-running process can start before the server does.
"""

from __future__ import annotations

import re

from elastic_transport import Urllib3HttpNode
from elasticsearch import Elasticsearch

_VENDOR_TYPE = re.compile(r"application/vnd\.elasticsearch\+([\w-]+);\s*compatible-with=\d+")


class PlainJsonNode(Urllib3HttpNode):
    """Sends plain JSON media types, which every server version accepts (servers < 8 refuse the
    client's `compatible-with=9` types), and marks responses as Elasticsearch where a server
    < 8 leaves the product header out."""

    def perform_request(self, method, target, body=None, headers=None, **kwargs):
        if headers:
            headers = {name: _VENDOR_TYPE.sub(r"application/\1", v) for name, v in headers.items()}
        response = super().perform_request(method, target, body=body, headers=headers, **kwargs)
        response.meta.headers.setdefault("x-elastic-product", "Elasticsearch")
        return response


def make_elasticsearch_client(
    url: str, basic_auth: tuple[str, str] | None = None
) -> Elasticsearch:
    """A client for `url`, whatever the server's version; it connects on its first request.

    `basic_auth` is (username, password) for a server with security on (Settings'
    elasticsearch_auth), None for one without.
    """
    return Elasticsearch(url, node_class=PlainJsonNode, basic_auth=basic_auth)


def unreachable_sentence(url: str) -> str:
    """What a command says when Elasticsearch does not answer at `url`."""
    return (f"Elasticsearch does not answer at {url}: start the stack with ./deploy.sh, "
            "or set ELASTICSEARCH_URL")
