"""Outage drill: Kafka, S3 and Elasticsearch each stopped for 60 s under a steady flow of photos.

    .venv/bin/python -m bench.outage_drill [--outage-s 60] [--servers kafka,s3,es] [--rate 2]
                                           [--broker-on-own-s3]

A stack of the drill's own (kit/spare_stack.py) on free ports: SeaweedFS (the
dataset), a Tansu broker, Elasticsearch, and the streaming job under the stack dir's
supervisord, as `./deploy.sh` runs it. The broker keeps its log on the S3 that answers on the
Settings' port (the shared one), so an S3 outage is the dataset store's alone and photos keep
arriving; with --broker-on-own-s3 it keeps it on the drill's S3, as deployed, and an S3 outage
stops Kafka too.
Photos are published the way the API publishes them (ingest_api.upload.publisher, acks=all) at
--rate per second from start to end; a publish that fails (the API would answer 503) is counted as
refused, not as lost.

For each server in turn: the stream is caught up, the server is stopped with `down` for
--outage-s seconds, then started with `up`. Printed per outage:
  back after      from `up` to the server answering again
  caught up after from the server answering again until every photo acknowledged before
                  that moment has its document in the index (the stream has caught up)
  lag at the end  messages behind the topic's end just before the server came back
                  (`./deploy.sh status`'s figure)
  restarts        query restarts inside the job during the outage; process restarts by
                  supervisord (a changed pid) of the job and of the other servers
At the end: every acknowledged photo is in the dataset's manifests exactly once and in the
index, with no human action in between.
"""

from __future__ import annotations

import argparse
import logging
import os
import platform
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime

from adapters.elasticsearch_client import make_elasticsearch_client
from adapters.object_store import open_store
from infra.processes import NotReady
from ingest_api.upload.publisher import KafkaPublisher, KafkaUnavailable
from kit.field_messages import manifest_rows_written, photo_messages
from kit.spare_stack import SpareStack
from settings import Settings
from streaming.progress import StreamProgress, messages_behind, progress_path

CATCH_UP_TIMEOUT_S = 600
WARM_UP_S = 20


@dataclass
class Flow:
    """Photos published at a steady rate on a thread of their own."""

    settings: Settings
    rate: float
    acked: list[tuple[float, str]] = field(default_factory=list)  # (monotonic time, image id)
    refused: list[tuple[float, str]] = field(default_factory=list)
    stop: threading.Event = field(default_factory=threading.Event)

    def run(self) -> None:
        s = self.settings
        publisher = KafkaPublisher(s.kafka_bootstrap_servers, s.kafka_topic, s.max_upload_bytes)
        n = 0
        while not self.stop.is_set():
            began = time.monotonic()
            photo = photo_messages(1, first=n)[0]
            n += 1
            try:
                publisher.publish(photo.key.decode(), photo.value, photo.headers)
                self.acked.append((time.monotonic(), photo.image_id))
            except KafkaUnavailable:
                self.refused.append((time.monotonic(), photo.image_id))
            self.stop.wait(max(0.0, 1 / self.rate - (time.monotonic() - began)))

    def acked_before(self, moment: float) -> set[str]:
        return {image_id for at, image_id in list(self.acked) if at < moment}


def indexed_ids(settings: Settings) -> set[str]:
    """Ids of the documents in the index; empty while Elasticsearch does not answer."""
    try:
        search = make_elasticsearch_client(settings.elasticsearch_url)
        index = settings.elasticsearch_index
        search.indices.refresh(index=index, ignore_unavailable=True)
        hits = search.search(index=index, size=10_000, source=False,
                             ignore_unavailable=True)["hits"]["hits"]
    except Exception:  # stopped, or still starting
        return set()
    return {hit["_id"] for hit in hits}


def wait_caught_up(settings: Settings, wanted: set[str]) -> float:
    """Wait until every wanted photo is indexed; the monotonic time it was seen so."""
    deadline = time.monotonic() + CATCH_UP_TIMEOUT_S
    while not wanted <= indexed_ids(settings):
        if time.monotonic() > deadline:
            raise NotReady(f"the stream did not catch up within {CATCH_UP_TIMEOUT_S} s")
        time.sleep(0.5)
    return time.monotonic()


def pids(stack: SpareStack) -> dict[str, int | None]:
    return {name: server.process.pid() for name, server in stack.servers.items()}


def lag(settings: Settings) -> str:
    try:
        return str(messages_behind(settings, StreamProgress.read(progress_path(settings)).offsets))
    except Exception as error:  # Kafka is the server that is down
        return f"unknown ({type(error).__name__})"


def drill(stack: SpareStack, flow: Flow, name: str, outage_s: float) -> dict:
    settings = stack.settings
    wait_caught_up(settings, flow.acked_before(time.monotonic()))
    before = pids(stack)
    restarts = StreamProgress.read(progress_path(settings)).query_restarts
    acked, refused = len(flow.acked), len(flow.refused)
    print(f"  {name}: down for {outage_s:g} s ...", flush=True)
    stack.down(name)
    time.sleep(outage_s)
    lag_at_end = lag(settings) if name != "kafka" else "unknown (Kafka is down)"
    up_called = time.monotonic()
    stack.up(name)
    back = time.monotonic()
    caught_up = wait_caught_up(settings, flow.acked_before(back))
    after = pids(stack)
    changed = [server for server in before if server != name and before[server] != after[server]]
    return {
        "server": name,
        "back_s": back - up_called,
        "caught_up_s": caught_up - back,
        "lag": lag_at_end,
        "query_restarts": StreamProgress.read(progress_path(settings)).query_restarts - restarts,
        "process_restarts": ", ".join(changed) or "none",
        "acked": len(flow.acked) - acked,
        "refused": len(flow.refused) - refused,
    }


def verify(stack: SpareStack, flow: Flow) -> tuple[int, int, int]:
    """(acknowledged photos, missing from manifests or index, doubled in manifests)."""
    settings = stack.settings
    acked = {image_id for _, image_id in flow.acked}
    wait_caught_up(settings, acked)
    written = Counter(row["image_id"]
                      for row in manifest_rows_written(open_store(settings.dataset_root,
                                                                  settings.s3)))
    indexed = indexed_ids(settings)
    missing = {i for i in acked if written[i] == 0 or i not in indexed}
    doubled = {i for i, count in written.items() if count > 1}
    return len(acked), len(missing), len(doubled)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.outage_drill", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--outage-s", type=float, default=60)
    parser.add_argument("--servers", default="kafka,s3,es")
    parser.add_argument("--rate", type=float, default=2, help="photos per second")
    parser.add_argument("--broker-on-own-s3", action="store_true",
                        help="the broker's log on the drill's S3, as deployed")
    args = parser.parse_args(argv)
    logging.getLogger("ingest_api.upload.publisher").setLevel(logging.ERROR)  # refusals are counted

    where = "the drill's S3" if args.broker_on_own_s3 else "the shared S3"
    print(f"outage_drill {datetime.now(UTC):%Y-%m-%d %H:%M} UTC on {platform.node()}: "
          f"{os.cpu_count()} cores, Python {platform.python_version()}, load average "
          f"{os.getloadavg()[0]:.2f}; photos 320x240 JPEG at {args.rate:g}/s; the broker's "
          f"log on {where}", flush=True)
    stack = SpareStack(Settings.from_env(), broker_on_own_s3=args.broker_on_own_s3)
    flow = Flow(stack.settings, args.rate)
    publisher = threading.Thread(target=flow.run, daemon=True)
    try:
        began = time.monotonic()
        stack.up()
        print(f"stack up in {time.monotonic() - began:.0f} s in {stack.settings.stack_dir}",
              flush=True)
        publisher.start()
        time.sleep(WARM_UP_S)  # the job's Python workers start with its first batches
        results = [drill(stack, flow, name, args.outage_s) for name in args.servers.split(",")]
        flow.stop.set()
        publisher.join()
        total, missing, doubled = verify(stack, flow)
    except NotReady as error:
        print(f"outage_drill: {error}\n--- the job's log ---\n"
              f"{stack.servers['stream'].process.log_tail(60)}", file=sys.stderr)
        return 1
    finally:
        flow.stop.set()
        stack.close()

    print(f"\n| server down {args.outage_s:g} s | back after | caught up after | lag at the end "
          "| query restarts | process restarts | photos acked / refused meanwhile |")
    print("| --- | ---: | ---: | ---: | ---: | --- | ---: |")
    for r in results:
        print(f"| {r['server']} | {r['back_s']:.1f} s | {r['caught_up_s']:.1f} s | {r['lag']} "
              f"| {r['query_restarts']} | {r['process_restarts']} "
              f"| {r['acked']} / {r['refused']} |")
    print(f"\n{total} photos acknowledged in all ({len(flow.refused)} refused while Kafka "
          f"could not take them): {missing} missing, {doubled} written twice; load average "
          f"at the end {os.getloadavg()[0]:.2f}")
    return 0 if missing == doubled == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
