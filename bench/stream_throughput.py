"""The streaming pipeline on the local stack: photos/s and POST→tensor-in-S3 latency, in one run.

    .venv/bin/python -m bench.stream_throughput [--rates 10,30,60,90] [--seconds 20]
                                                [--phone-rates 1,2,4] [--api-uploads 300]

The API and the streaming job (Spark local[2]) run as the native deploy runs them, on a topic,
bucket, index, port and checkpoint of this run's own; the servers (S3, broker, Elasticsearch)
are those already answering on their ports, else started here and stopped at the end.

api vs raw  before the streaming job starts (so nothing else competes): --api-uploads gps
            photos through POST /post_image from 8 threads, against a raw kafka-python producer
            configured like the API's (acks=all, idempotent, same max_request_size) sending the
            same payloads and headers to a scratch topic the stream never reads: 2 producers x 4
            threads each waiting for its ack (the API's 2 gunicorn workers x 4 threads), and
            one producer sending all, then flushing. The API's uploads wait on the stream's
            topic; the job then starts on that backlog: the first row of the stream table is
            its drain rate (photos after its first batch / first to last batch).
stream      per rate, uploads paced for --seconds, then a wait until every accepted upload
            has its document; sustained = processed / (last processed_at - first POST);
            latency = processed_at - POST send time (processed_at is set on the driver right
            after the micro-batch's S3 writes, so this bounds POST→tensor-in-S3 from above).
bottleneck  CPU by component during each rate (from /proc), the job's micro-batches (its
            log), the core's CPU per photo, one micro-batch's S3 writes and Elasticsearch
            bulk, and the broker's produce/consume rates, each as a ceiling in photos/s.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import signal
import statistics
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path

import numpy as np
from kafka import KafkaConsumer, KafkaProducer, TopicPartition

from adapters.elasticsearch_client import make_elasticsearch_client
from adapters.image_index import index_rows
from adapters.kafka_messages import encode_headers
from adapters.object_store import open_store
from bench.corpus import CORPUS
from bench.stream_load import (
    LABEL,
    BatchLine,
    CpuMeter,
    JobExited,
    Payload,
    Sent,
    distinct_payloads,
    logged_batches,
    post_all,
    processed_times,
)
from dataset.writer import write_group
from infra.processes import NotReady, free_port
from infra.schemas import ensure_topic, remove_schemas, remove_topics
from infra.stack import LocalStack
from ingest_api.auth_store import TokenStore
from ingest_api.publisher import (
    DELIVERY_TIMEOUT_MS,
    MAX_BLOCK_MS,
    MESSAGE_HEADROOM_BYTES,
    REQUEST_TIMEOUT_MS,
)
from preprocessing import load_upright_rgb
from preprocessing.upload import Upload, process_upload
from settings import Settings
from streaming.job import EVERY_TWO_SECONDS, MAX_OFFSETS_PER_TRIGGER
from streaming.sink import LOOKUP_CHUNK

SERVERS = ["s3", "kafka", "es"]
SERVICES = ["api", "nginx", "stream"]
API_THREADS = 8
API_PRODUCERS = 2  # gunicorn workers, each with one producer shared by its threads
PACED_THREADS = 32
STALL_S = 60.0  # give up waiting for documents when none has appeared for this long
PROGRESS_EVERY_S = 15.0
TARGET_RATE, TARGET_P99_S, TARGET_API_RATIO = 60.0, 5.0, 0.5
BENCH_DEVICE = "bench"
TRIGGER_S = float(EVERY_TWO_SECONDS["processingTime"].split()[0])


@dataclass
class Row:
    """One line of the stream table."""

    group: str
    target: str
    sent: list[Sent]
    done: dict[str, float]  # image id -> processed_at
    cores: dict[str, float]  # by component, over the CPU meter's window
    busy: float  # cores busy on the whole machine, same window
    cpu_seconds: float  # the window: first POST (or job start) to the last document seen
    complete: bool
    backlog: bool = False  # posted before the job started: no latencies, a drain rate
    batches: list[BatchLine] = field(default_factory=list)  # the job's, from its log

    @property
    def accepted(self) -> list[Sent]:
        return [s for s in self.sent if s.status == 202]

    def input_rate(self) -> float:
        times = sorted(s.sent_at for s in self.accepted)
        return (len(times) - 1) / (times[-1] - times[0]) if len(times) > 1 else float("nan")

    def sustained(self) -> float:
        """Paced rows: processed / (last processed_at - first POST). Backlogs: the photos after
        the first batch / (last processed_at - first processed_at)."""
        if not self.done:
            return float("nan")
        if self.backlog:
            times = sorted(self.done.values())
            after_first = [t for t in times if t > times[0]]
            return len(after_first) / (times[-1] - times[0]) if after_first else float("nan")
        first = min(s.sent_at for s in self.accepted)
        return len(self.done) / (max(self.done.values()) - first)

    def latencies(self) -> np.ndarray:
        return np.array([self.done[s.image_id] - s.sent_at for s in self.accepted
                         if s.image_id in self.done])

    def cpu_ms_per_photo(self, names) -> float:
        """CPU milliseconds that the components `names` spent per processed photo."""
        seconds = sum(self.cores.get(n, 0) for n in names) * self.cpu_seconds
        return seconds / max(1, len(self.done)) * 1000


def assign_batches(rows: list[Row], batches: list[BatchLine]) -> None:
    """Give each logged batch to the row it processed: the last row whose first document
    came before the line. Batches run one after another, and the line is written after the
    batch's documents, so a row's first document is always later than the previous row's
    last line."""
    for batch in batches:
        owners = [r for r in rows if r.done and min(r.done.values()) <= batch.logged_at]
        if owners and batch.logged_at <= max(owners[-1].done.values()) + 5:
            owners[-1].batches.append(batch)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rates", type=rates, default=rates("10,30,60,90"),
                        help="uploads/s of ~150 KB photos (corpus/gps)")
    parser.add_argument("--seconds", type=float, default=20.0, help="posting time per rate")
    parser.add_argument("--phone-rates", type=rates, default=rates("1,2,4"),
                        help="uploads/s of full-size phone photos (corpus/mobile)")
    parser.add_argument("--api-uploads", type=int, default=300,
                        help="gps uploads for the API against the raw producer")
    parser.add_argument("--keep-logs", action="store_true",
                        help="keep this run's stack dir (the API's and the job's logs)")
    args = parser.parse_args()
    gps, phone = sorted((CORPUS / "gps").glob("*.jpg")), sorted((CORPUS / "mobile").glob("*.jpg"))
    if not gps or not phone:
        sys.exit(f"the benchmark needs the shared corpus at {CORPUS} (gps/ and mobile/)")
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # so the finally clauses run

    print_machine()
    suffix = uuid.uuid4().hex[:8]
    stack_dir = Path(tempfile.mkdtemp(prefix="bench-stream-"))
    stack_dir.chmod(0o755)  # Elasticsearch runs as nobody when we are root: it must enter here
    base = Settings.from_env()
    settings = replace(
        base,
        stack_dir=str(stack_dir),
        checkpoint_dir=str(stack_dir / "checkpoint"),
        kafka_topic=f"bench-{suffix}",
        dataset_root=f"s3://bench-{suffix}/dataset",
        elasticsearch_index=f"{base.elasticsearch_index}-bench-{suffix}",
        api_port=free_port(),
        api_internal_port=free_port(),
        spark_master="local[2]",
        api_token_store=str(stack_dir / "auth" / "tokens.sqlite3"),
        # The benchmark is many phones' worth of uploads from one device token.
        upload_rate_limit="1000000/minute",
        lookup_rate_limit="1000000/minute",
    )
    raw_topic = f"bench-raw-{suffix}"
    stack = LocalStack(settings)
    started: list[str] = []
    try:
        began = time.monotonic()
        for name in SERVERS:  # one by one, so a failure still leaves the names started so far
            started += stack.up([name])
        stack.up(["nginx"])  # the API behind its nginx, as deployed
        reused = [name for name in SERVERS if name not in started]
        print(f"stack        started {started or 'no server'}, reused {reused or 'none'}; "
              f"servers + api up in {time.monotonic() - began:.0f} s (dir {stack_dir})")
        print(f"stream job   {settings.spark_master}, trigger every {TRIGGER_S:g} s, "
              f"maxOffsetsPerTrigger {MAX_OFFSETS_PER_TRIGGER}, {settings.kafka_partitions} "
              f"partitions, {settings.n_variants} variants; broker log on s3://"
              f"{settings.kafka_log_bucket}/\n", flush=True)
        run(settings, raw_topic, gps, phone, args, suffix)
    except NotReady as error:
        print(f"\nstream_throughput: the stack did not come up: {error}", file=sys.stderr)
        return 1
    except JobExited as error:
        job = stack.servers["stream"].process
        print(f"\nstream_throughput: {error}\n--- last lines of {job.log_file} ---\n"
              f"{job.log_tail(40)}", file=sys.stderr)
        return 1
    finally:
        stack.down(SERVICES)
        remove_data(settings, raw_topic)
        # The stack dir is this run's own: a process its supervisord runs is one this run started.
        ours = [name for name in SERVERS if stack.servers[name].process.pid() is not None]
        stopped = stack.down(sorted(set(started) | set(ours)))
        print(f"\nstopped      api, nginx, stream{''.join(', ' + n for n in stopped)}; "
              f"load average at end {load_average()}")
        if args.keep_logs:
            print(f"logs kept in {stack_dir}")
        else:
            shutil.rmtree(stack_dir, ignore_errors=True)
    return 0


def run(settings: Settings, raw_topic: str, gps, phone, args, suffix: str) -> None:
    url = f"http://{settings.api_host}:{settings.api_port}"
    search = make_elasticsearch_client(settings.elasticsearch_url).options(request_timeout=30)
    stack = LocalStack(settings)
    stream_log = Path(settings.stack_dir) / "stream" / "stream.log"
    auth = {"Authorization": f"Bearer {TokenStore.from_settings(settings).issue(BENCH_DEVICE)}"}

    # 1. The API against a raw producer, on the same payloads, the streaming job not running.
    payloads = distinct_payloads(gps, args.api_uploads, f"api-{suffix}")
    post_all(url, auth, distinct_payloads(gps, API_THREADS, f"warm-{suffix}"), API_THREADS, None)
    began = time.perf_counter()
    api_sent = post_all(url, auth, payloads, API_THREADS, None)
    api_s = time.perf_counter() - began
    ensure_topic(settings.kafka_bootstrap_servers, raw_topic, settings.kafka_partitions)
    sync_s, acks, sync_failed = raw_waiting(settings, raw_topic, payloads)
    async_s, async_failed = raw_async(settings, raw_topic, payloads)
    consume_s, consumed = consume_all(settings, raw_topic, 2 * len(payloads))
    print_api_vs_raw(api_sent, api_s, payloads, sync_s, acks, sync_failed, async_s,
                     async_failed, consume_s, consumed)
    broker = {"sync": len(payloads) / sync_s, "async": len(payloads) / async_s,
              "consume": consumed / consume_s, "ack_p50": float(np.median(acks) * 1000)}

    # 2. The stream: started on the API's uploads (a backlog), then paced rates.
    began = time.monotonic()
    stack.up(["stream"])
    print(f"\nstream job up in {time.monotonic() - began:.0f} s (checkpoint written)")
    meter = CpuMeter(stack.servers["api"].process.pid(), stack.servers["stream"].process.pid())
    print("\n## Stream: POST → processed_at (document written after the batch's S3 writes)")
    rows = [wait_row(settings, search, meter, "gps", f"{args.api_uploads} backlog", api_sent,
                     meter.snapshot(), stream_log, backlog=True)]
    for group, photos, group_rates in (("gps", gps, args.rates), ("phone", phone,
                                                                   args.phone_rates)):
        for rate in group_rates:
            count = max(1, round(rate * args.seconds))
            batch = distinct_payloads(photos, count, f"{group}-{rate:g}-{suffix}")
            threads = PACED_THREADS if group == "gps" else API_THREADS
            before = meter.snapshot()
            print(f"  {group} at {rate:g}/s: posting {count} ...", flush=True)
            sent = post_all(url, auth, batch, threads, rate)
            rows.append(wait_row(settings, search, meter, group, f"{rate:g}/s", sent, before,
                                 stream_log))
            if not rows[-1].complete:
                print(f"  skipping the remaining {group} rates: the backlog would mix them")
                break
    print_stream(rows)
    print_cpu(rows)

    # 3. What each candidate bottleneck allows, measured now that the stream is idle.
    core = core_cost(gps, phone, settings)
    write = write_cost(settings, search, gps, suffix)
    assign_batches(rows, logged_batches(stream_log))  # every line written by now
    print_batches(rows)
    print_bottleneck(rows, core, write, broker, settings)


def wait_row(settings, search, meter, group, target, sent, before, stream_log, *,
             backlog: bool = False) -> Row:
    """Wait until every accepted upload of `sent` has its document; the table row."""
    ids = [s.image_id for s in sent if s.status == 202]
    failed = len(sent) - len(ids)
    waited = printed = time.monotonic()

    def progress(done: int, total: int) -> None:
        nonlocal printed
        if time.monotonic() - printed > PROGRESS_EVERY_S and done < total:
            print(f"  {group} {target}: {done}/{total} processed so far", flush=True)
            printed = time.monotonic()

    limit = 120 + len(ids) / 2
    job = LocalStack(settings).servers["stream"].process
    done = processed_times(search, settings.elasticsearch_index, ids, stall_s=STALL_S,
                           limit_s=limit, job_alive=lambda: job.pid() is not None,
                           progress=progress)
    after = meter.snapshot()
    print(f"  {group} {target}: {len(done)}/{len(ids)} processed, the last "
          f"{time.monotonic() - waited:.0f} s after the last POST"
          + (f"; {failed} POSTs not accepted" if failed else ""), flush=True)
    complete = len(done) == len(ids)
    if not complete:
        print(f"  gave up: {len(ids) - len(done)} accepted uploads have no document "
              f"(none new for {STALL_S:.0f} s, or {limit:.0f} s in all); "
              f"see {stream_log}")
    cores, busy = CpuMeter.cores(before, after)
    return Row(group, target, sent, done, cores, busy, after[0] - before[0], complete, backlog)


def raw_producer(settings: Settings) -> KafkaProducer:
    """A kafka-python producer configured like the API's (ingest_api/publisher.py)."""
    return KafkaProducer(
        bootstrap_servers=settings.kafka_bootstrap_servers,
        client_id="bench-raw",
        acks="all",
        enable_idempotence=True,
        max_request_size=settings.max_upload_bytes + MESSAGE_HEADROOM_BYTES,
        max_block_ms=MAX_BLOCK_MS,
        request_timeout_ms=REQUEST_TIMEOUT_MS,
        delivery_timeout_ms=DELIVERY_TIMEOUT_MS,
    )


def message(payload: Payload) -> dict:
    """The API's message for this upload: key, value, the headers of its form and its token."""
    headers = encode_headers({"label": LABEL, "device_id": BENCH_DEVICE, "filename": payload.name})
    return {"key": payload.image_id.encode(), "value": payload.data, "headers": headers}


def raw_waiting(settings, topic: str, payloads: list[Payload]):
    """API_PRODUCERS producers, each shared by API_THREADS / API_PRODUCERS threads that wait
    for every ack; (seconds, ack latencies, failures)."""
    producers = [raw_producer(settings) for _ in range(API_PRODUCERS)]
    for producer in producers:
        producer.partitions_for(topic)  # connected and with metadata, like the API's by now
    queue, lock, acks, failed = iter(payloads), threading.Lock(), [], []

    def sender(producer: KafkaProducer) -> None:
        while True:
            with lock:
                payload = next(queue, None)
            if payload is None:
                return
            began = time.perf_counter()
            try:
                producer.send(topic, **message(payload)).get(timeout=DELIVERY_TIMEOUT_MS / 1000 + 1)
                acks.append(time.perf_counter() - began)
            except Exception as error:  # noqa: BLE001 - counted and reported, like a 503
                failed.append(error)

    threads = [threading.Thread(target=sender, args=(producers[n % API_PRODUCERS],))
               for n in range(API_THREADS)]
    began = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    seconds = time.perf_counter() - began
    for producer in producers:
        producer.close(timeout=10)
    return seconds, np.array(acks or [float("nan")]), len(failed)


def raw_async(settings, topic: str, payloads: list[Payload]) -> tuple[float, int]:
    """One producer: send everything, then flush; (seconds, failed sends)."""
    producer = raw_producer(settings)
    producer.partitions_for(topic)
    began = time.perf_counter()
    futures = [producer.send(topic, **message(payload)) for payload in payloads]
    producer.flush(timeout=120)
    seconds = time.perf_counter() - began
    producer.close(timeout=10)
    return seconds, sum(1 for f in futures if not f.succeeded())


def consume_all(settings, topic: str, expected: int) -> tuple[float, int]:
    """Read the scratch topic from offset 0 with an assigned consumer; (seconds, messages)."""
    consumer = KafkaConsumer(bootstrap_servers=settings.kafka_bootstrap_servers,
                             client_id="bench-raw", group_id=None, enable_auto_commit=False)
    try:
        partitions = [TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic)]
        consumer.assign(partitions)
        for tp in partitions:
            consumer.seek(tp, 0)
        count, began = 0, time.perf_counter()
        while count < expected and time.perf_counter() - began < 120:
            count += sum(len(records) for records in consumer.poll(timeout_ms=500).values())
        return time.perf_counter() - began, count
    finally:
        consumer.close()


def core_cost(gps, phone, settings) -> dict[str, dict[str, float]]:
    """CPU ms per photo, one process: the API's request-path check and the job's core."""
    cost = {}
    for group, paths in (("gps", gps), ("phone", phone)):
        datas = [path.read_bytes() for path in paths]
        cost[group] = {
            "api check": cpu_ms(lambda d: load_upright_rgb(d, settings.max_pixels), datas),
            "core": cpu_ms(lambda d: process_upload(Upload(d, "bench"),
                                                    n_variants=settings.n_variants,
                                                    max_pixels=settings.max_pixels), datas),
        }
    return cost


def cpu_ms(action, datas: list[bytes], seconds: float = 2.0) -> float:
    """CPU milliseconds per call, over rounds of all `datas` for at least `seconds`."""
    action(datas[0])
    done, began = 0, time.process_time()
    while done < 2 * len(datas) or time.process_time() - began < seconds:
        for data in datas:
            action(data)
        done += len(datas)
    return (time.process_time() - began) / done * 1000


class DiscardStore:
    """An object store that keeps nothing: write_group's own cost without the S3 round trips."""

    def __init__(self):
        self.objects = self.bytes = 0

    def put_bytes(self, key: str, data: bytes) -> None:
        self.objects, self.bytes = self.objects + 1, self.bytes + len(data)

    def put_stream(self, key: str, stream) -> None:
        self.put_bytes(key, stream.read())


def write_cost(settings, search, gps, suffix) -> dict[str, float]:
    """One full micro-batch's writes: its S3 objects (a group per Kafka partition) and its
    Elasticsearch bulk, timed on outcomes processed beforehand."""
    per_partition = MAX_OFFSETS_PER_TRIGGER // settings.kafka_partitions
    payloads = distinct_payloads(gps, MAX_OFFSETS_PER_TRIGGER, f"probe-{suffix}")
    outcomes = [process_upload(Upload(p.data, "bench", LABEL), n_variants=settings.n_variants,
                               max_pixels=settings.max_pixels) for p in payloads]
    groups = [outcomes[i : i + per_partition] for i in range(0, len(outcomes), per_partition)]

    def write(store) -> tuple[float, list[dict]]:
        began, rows = time.perf_counter(), []
        for n, group in enumerate(groups):
            rows += write_group(store, "probe", f"probe-p{n}", group)
        return time.perf_counter() - began, rows

    discard = DiscardStore()
    serialise_s, _ = write(discard)
    s3_s, rows = write(open_store(settings.dataset_root, settings.s3))
    bulk, lookups = [], []
    for _ in range(3):
        processed_at = datetime.now(UTC).isoformat()
        began = time.perf_counter()
        index_rows(search, settings.elasticsearch_index, rows, processed_at)
        bulk.append(time.perf_counter() - began)
        began = time.perf_counter()
        for group in groups:  # the sink's look-ups of already indexed photos, per range
            for i in range(0, len(group), LOOKUP_CHUNK):
                ids = [outcome.image_id for outcome in group[i : i + LOOKUP_CHUNK]]
                search.mget(index=settings.elasticsearch_index, ids=ids,
                            source_includes=["source"])
        lookups.append(time.perf_counter() - began)
    return {"photos": len(outcomes), "objects": discard.objects, "mb": discard.bytes / 1e6,
            "serialise_s": serialise_s, "s3_s": s3_s, "es_s": statistics.median(bulk),
            "lookup_s": statistics.median(lookups)}


def print_machine() -> None:
    model = next((line.split(":", 1)[1].strip() for line in
                  Path("/proc/cpuinfo").read_text().splitlines()
                  if line.startswith("model name")), platform.processor())
    memory = int(Path("/proc/meminfo").read_text().split()[1]) / 2**20
    print(f"# stream throughput on {os.cpu_count()} cores ({model}, {platform.machine()}), "
          f"{memory:.0f} GiB, Python {platform.python_version()}, pyspark "
          f"{metadata.version('pyspark')}, kafka-python {metadata.version('kafka-python')}")
    print(f"date         {datetime.now(UTC):%Y-%m-%d %H:%M} UTC; load average at start "
          f"{load_average()}", flush=True)


def print_api_vs_raw(api_sent, api_s, payloads, sync_s, acks, sync_failed, async_s,
                     async_failed, consume_s, consumed) -> None:
    n, kb = len(payloads), statistics.mean(len(p.data) for p in payloads) / 1000
    accepted = sum(1 for s in api_sent if s.status == 202)
    api_rate, sync_rate, async_rate = accepted / api_s, n / sync_s, n / async_s
    post_ms = np.array([s.seconds for s in api_sent]) * 1000
    print(f"## API against a raw producer: {n} gps photos ({kb:.0f} KB on average), "
          "streaming job not yet running")
    print("   the API's uploads go to the stream's topic (processed later: first stream row);")
    print("   the raw producer's go to a scratch topic that nothing processes")
    print(f"{'sender':52}{'msgs/s':>9}{'p50 ms':>9}{'p99 ms':>9}{'failed':>8}{'API/it':>9}")
    lines = [
        ("API POST /post_image, 8 threads (2 workers x 4)", api_rate, post_ms,
         len(api_sent) - accepted, None),
        ("raw producer, 2 producers x 4 threads, send().get()", sync_rate, acks * 1000,
         sync_failed, api_rate / sync_rate),
        ("raw producer, 1 producer, send all + flush", async_rate, None, async_failed,
         api_rate / async_rate),
    ]
    for name, rate, latency, failed, ratio in lines:
        p50, p99 = (np.percentile(latency, [50, 99]) if latency is not None
                    else (float("nan"),) * 2)
        print(f"{name:52}{rate:9.1f}{p50:9.1f}{p99:9.1f}{failed:8d}"
              + (f"{ratio:8.2f}x" if ratio is not None else f"{'':9}"))
    print(f"{'raw consumer, assigned, from offset 0':52}{consumed / consume_s:9.1f}"
          f"{'':27}  ({consumed} messages)")
    verdict = "met" if api_rate / sync_rate >= TARGET_API_RATIO else "NOT met"
    print(f"target API >= {TARGET_API_RATIO}x the raw producer (waiting for acks, same "
          f"concurrency): {api_rate / sync_rate:.2f}x, {verdict}", flush=True)


def print_stream(rows: list[Row]) -> None:
    print(f"\n{'photos':7}{'rate':>14}{'posted':>8}{'202':>6}{'input/s':>9}{'POST p50':>10}"
          f"{'processed':>11}{'sustained/s':>13}{'p50 s':>8}{'p99 s':>8}{'max s':>8}")
    for row in rows:
        latency = row.latencies()
        if latency.size and not row.backlog:
            cells = "".join(f"{v:8.2f}" for v in np.percentile(latency, [50, 99, 100]))
        else:
            cells = f"{'-':>8}" * 3
        post_ms = np.median([s.seconds for s in row.sent]) * 1000
        print(f"{row.group:7}{row.target:>14}{len(row.sent):8d}{len(row.accepted):6d}"
              f"{row.input_rate():9.1f}{post_ms:8.0f}ms{len(row.done):11d}"
              f"{row.sustained():13.1f}{cells}" + ("" if row.complete else "  INCOMPLETE"))
    print("backlog row: POSTed before the job started; sustained = its drain rate (photos after "
          "the first batch / first to last batch), no latency")
    paced = [r for r in rows if r.group == "gps" and not r.backlog]
    meets = [r for r in paced if r.complete and r.input_rate() >= TARGET_RATE * 0.95
             and r.sustained() >= TARGET_RATE
             and np.percentile(r.latencies(), 99) <= TARGET_P99_S]
    best = max(paced, key=lambda r: r.sustained(), default=None)
    print(f"target gps >= {TARGET_RATE:g} photos/s sustained with p99 <= {TARGET_P99_S:g} s: "
          + ("met at " + ", ".join(r.target for r in meets) if meets else "NOT met")
          + (f" (best sustained {best.sustained():.1f}/s, at {best.target})" if best else ""),
          flush=True)


def print_cpu(rows: list[Row]) -> None:
    """Cores used by each component while each row was posted and processed, and per photo."""
    names = sorted({n for r in rows for n in r.cores},
                   key=lambda n: -max(r.cores.get(n, 0) for r in rows))
    heading = f"{'component':24}" + "".join(f"{r.group + ' ' + r.target:>14}" for r in rows)
    print(f"\nCPU from the first POST to the last document, in cores (the machine has "
          f"{os.cpu_count()}); 'other' is everything not this run's")
    print(heading)
    for name in names:
        print(f"{name:24}" + "".join(f"{r.cores.get(name, 0):14.2f}" for r in rows))
    print(f"{'machine busy':24}" + "".join(f"{r.busy:14.2f}" for r in rows))
    print("\nthe same as CPU ms per processed photo")
    print(heading)
    for name in [n for n in names if n not in ("other", "bench")]:
        print(f"{name:24}" + "".join(f"{r.cpu_ms_per_photo([name]):14.0f}" for r in rows))
    print(f"{'pipeline total':24}"
          + "".join(f"{r.cpu_ms_per_photo(set(names) - {'other', 'bench'}):14.0f}"
                    for r in rows), flush=True)


def print_batches(rows: list[Row]) -> None:
    """The job's micro-batches during each row, from its log; batch 0 (cold) and 1 left out."""
    print(f"\nmicro-batches from the job's log (batches 0 and 1, still warming up, left out; "
          f"Spark logs a batch's time only when it exceeds the {TRIGGER_S:g} s trigger)")
    print(f"{'photos':7}{'rate':>14}{'batches':>9}{'photos/batch':>14}"
          f"{f'full ({MAX_OFFSETS_PER_TRIGGER})':>11}{'timed':>7}{'median s':>10}{'max s':>8}")
    for row in rows:
        warm = warm_batches(row)
        timed = [b.seconds for b in warm if b.seconds is not None]
        full = sum(1 for b in warm if b.photos == MAX_OFFSETS_PER_TRIGGER)
        mean = statistics.mean(b.photos for b in warm) if warm else 0
        median, top = (statistics.median(timed), max(timed)) if timed else (np.nan, np.nan)
        print(f"{row.group:7}{row.target:>14}{len(warm):9d}{mean:14.1f}{full:11d}"
              f"{len(timed):7d}{median:10.2f}{top:8.2f}")


def warm_batches(row: Row) -> list[BatchLine]:
    return [b for b in row.batches if b.batch_id > 1]


def print_bottleneck(rows, core, write, broker, settings) -> None:
    full, gps = MAX_OFFSETS_PER_TRIGGER, core["gps"]
    serialise_ms = write["serialise_s"] / write["photos"] * 1000
    core_ms = gps["api check"] + gps["core"] + serialise_ms
    print("\n## Bottleneck probes (one process, the stream idle)")
    print(f"core CPU ms/photo: gps api check {gps['api check']:.1f}, core with "
          f"{settings.n_variants} variants {gps['core']:.1f}; phone api check "
          f"{core['phone']['api check']:.1f}, core {core['phone']['core']:.1f}")
    print(f"one {write['photos']}-photo micro-batch's writes ({settings.kafka_partitions} groups, "
          f"{write['objects']} objects, {write['mb']:.0f} MB): serialising (tensors, tar, "
          f"parquet, thumbnails) {write['serialise_s']:.2f} s ({serialise_ms:.1f} ms/photo); "
          f"serialising + S3 {write['s3_s']:.2f} s (S3 round trips "
          f"{write['s3_s'] - write['serialise_s']:.2f} s)")
    print(f"Elasticsearch per batch: bulk index {write['es_s']:.2f} s; the sink's look-ups "
          f"of indexed photos (mget of {LOOKUP_CHUNK}) {write['lookup_s']:.2f} s")

    timed = [(b.photos, b.seconds) for r in rows if r.group == "gps" for b in warm_batches(r)
             if b.seconds is not None]
    fit = np.polyfit(*zip(*timed, strict=True), 1) if len({p for p, _ in timed}) > 2 else None
    if fit is not None:
        per_photo, fixed = fit
        print(f"micro-batch time, fitted over {len(timed)} timed gps batches: {fixed:.2f} s "
              f"per batch + {per_photo * 1000:.0f} ms per photo → a {full}-photo batch "
              f"{fixed + full * per_photo:.2f} s")

    paced = [r for r in rows if r.group == "gps" and not r.backlog and r.complete]
    busiest = max(paced, key=lambda r: r.input_rate(), default=None)
    print("\n## Bottleneck: photos/s each part would allow on its own (gps photos)")
    ceilings = [("Spark trigger: maxOffsetsPerTrigger / interval", full / TRIGGER_S,
                 f"{full} photos per batch, at most one batch per {TRIGGER_S:g} s")]
    if fit is not None:
        ceilings.append(("Spark micro-batches as timed (fit, full batches)",
                         full / (fixed + full * per_photo),
                         f"{fixed:.2f} s fixed + {per_photo * 1000:.0f} ms/photo"))
    if busiest is not None:
        names = set(busiest.cores) - {"other", "bench"}
        total_ms = busiest.cpu_ms_per_photo(names)
        ceilings.append(("CPU, the whole pipeline as measured", 2000 / total_ms,
                         f"{total_ms:.0f} CPU ms/photo at {busiest.target}, machine busy "
                         f"{busiest.busy:.2f} of 2 cores"))
    ceilings += [
        ("CPU, the core alone (api check + core + serialising)", 2000 / core_ms,
         f"{core_ms:.1f} CPU ms/photo in one process"),
        ("S3: serialising + writes of a batch, one writer", write["photos"] / write["s3_s"],
         f"{write['s3_s']:.2f} s per {write['photos']} photos"),
        ("Elasticsearch per batch: bulk + look-ups",
         write["photos"] / (write["es_s"] + write["lookup_s"]),
         f"{write['es_s'] + write['lookup_s']:.2f} s per {write['photos']} documents"),
        ("broker: produce, 8 senders waiting for acks", broker["sync"],
         f"ack p50 {broker['ack_p50']:.0f} ms"),
        ("broker: produce, async + flush", broker["async"], "one producer"),
        ("broker: consume from offset 0", broker["consume"], "one consumer"),
    ]
    for name, ceiling, note in ceilings:
        print(f"  {name:54}{ceiling:8.1f}/s   {note}")
    stage, lowest, _ = min(ceilings, key=lambda c: c[1])
    print(f"lowest: {stage} ({lowest:.1f} photos/s)")
    measured = [r for r in rows if r.group == "gps" and r.complete]
    if measured:
        best = max(measured, key=lambda r: r.sustained())
        print(f"measured end to end: best {best.sustained():.1f} photos/s ({best.target})")


def remove_data(settings: Settings, raw_topic: str) -> None:
    """Delete this run's topics, index (and its template) and bucket; warn, never raise."""
    steps = {
        "topics": lambda: remove_topics(settings.kafka_bootstrap_servers, [raw_topic]),
        "topic, index and bucket": lambda: remove_schemas(settings, SERVERS),
    }
    for name, step in steps.items():
        try:
            step()
        except Exception as error:  # noqa: BLE001 - clean-up is best effort
            print(f"warning: could not remove this run's {name}: {error!r}", file=sys.stderr)


def rates(text: str) -> list[float]:
    return [float(part) for part in text.split(",") if part.strip()]


def load_average() -> str:
    return " ".join(f"{value:.2f}" for value in os.getloadavg())


if __name__ == "__main__":
    sys.exit(main())
