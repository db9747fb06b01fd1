"""Drill: hostile input against a running stack (`./deploy.sh`), at the API and straight to Kafka.

    .venv/bin/python -m bench.hostile_drill --token TOKEN [--rounds 10]

1. The API: every kind of bad upload the issue names (empty, text, other formats, truncated,
   damaged headers, a decompression bomb, bad and past-limit fields, lying numbers, a body
   without a boundary, 5,000 fields, a body over the limit), each answered JSON 4xx with a
   message free of internals; /is_alive answers afterwards.
2. Kafka: `rounds` x the bad messages of kit/hostile_messages.py, produced past the
   API among as many new good photos; then the time until every one has its document, good ones
   `processed` exactly once and bad ones dead letters with their reason.
Prints counts and times; exits 1 if any promise broke. Settings come from the environment.
"""

from __future__ import annotations

import argparse
import platform
import re
import time
from collections import Counter

from adapters.elasticsearch_client import make_elasticsearch_client
from kit.api_client import ApiClient
from kit.field_messages import produce
from kit.hostile_messages import bad_messages, photo
from kit.uploads import gif, jpeg, png_bomb, truncated_jpeg
from settings import Settings

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
INTERNALS = re.compile(
    r"0x[0-9a-f]{6,}|<[\w.]+ object|BytesIO|Error\(|Exception|178,?956,?970|127\.0\.0\.1|:\d{4,5}"
)


def hostile_uploads() -> dict[str, dict]:
    """name -> the ApiClient.request keyword arguments of one bad upload."""
    photo_file = ("p.jpg", jpeg(seed=991))

    def form(**fields):
        return {"fields": {"file": photo_file, **fields}}
    return {
        "empty file": {"fields": {"file": ("e.jpg", b"")}},
        "text as a photo": {"fields": {"file": ("notes.jpg", b"field notes, not a photo")}},
        "gif": {"fields": {"file": ("a.gif", gif())}},
        "truncated jpeg": {"fields": {"file": ("t.jpg", truncated_jpeg())}},
        "png signature, then zeros": {"fields": {"file": ("d.png", PNG_SIGNATURE + bytes(64))}},
        "900 MP png bomb": {"fields": {"file": ("bomb.png", png_bomb())}},
        "label past its limit": form(label="x" * 65),
        "label with spaces": form(label="maize corn"),
        "lat 1_0": form(lat="1_0", lon="7"),
        "lat 1e-400": form(lat="1e-400", lon="7"),
        "padded lat": form(lat=" 45", lon="7"),
        "lat without lon": form(lat="45"),
        "captured_at in year 1": form(captured_at="0001-01-01T00:00:00"),
        "captured_at +99:00": form(captured_at="2024-06-01T12:30:00+99:00"),
        "5,000 fields": form(**{f"f{n}": "x" for n in range(5000)}),
        "no boundary": {"body": b"--x\r\n", "headers": {"Content-Type": "multipart/form-data"}},
        "not multipart": {"body": b"{}", "headers": {"Content-Type": "application/json"}},
        "25 MB body": {"fields": {"file": ("big.jpg", bytes(25 * 1024 * 1024))}},
    }


def drill_api(url: str, token: str) -> bool:
    print(f"\n1. The API at {url}: hostile uploads")
    api = ApiClient(url, token, timeout=60)
    sound = True
    for name, request in hostile_uploads().items():
        began = time.perf_counter()
        response = api.request("POST", "/post_image", **request)
        took = time.perf_counter() - began
        try:
            body = response.json()
        except ValueError:
            body = {"error": None, "message": response.data[:80]}
        leaked = bool(INTERNALS.search(str(body.get("message"))))
        ok = 400 <= response.status < 500 and body.get("error") and not leaked
        sound &= bool(ok)
        print(f"  {name:<28} {response.status} {body.get('error')!s:<22} {took * 1000:7.0f} ms"
              f"{'  LEAKS INTERNALS' if leaked else ''}{'' if ok else '  BROKEN'}")
    alive = ApiClient(url, timeout=5).is_alive().status == 200
    print(f"  /is_alive afterwards: {'200' if alive else 'NO ANSWER'}")
    return sound and alive


def drill_kafka(settings: Settings, rounds: int) -> bool:
    print(f"\n2. Kafka {settings.kafka_topic}: {rounds} rounds of bad messages past the API")
    first = int(time.time()) % 1_000_000 * 100  # new photos, new image ids, every run
    bad = [pair for r in range(rounds)
           for pair in bad_messages(seed=first + r, first=first + r * 50)]
    good = [photo(first + 10_000_000 + n) for n in range(len(bad))]
    mixed = [m for pair in zip(good, [m for m, _ in bad], strict=True) for m in pair]
    began = time.monotonic()
    produce(settings.kafka_bootstrap_servers, settings.kafka_topic, mixed)
    ids = {m.image_id for m in good} | {m.image_id for m, _ in bad}
    search = make_elasticsearch_client(settings.elasticsearch_url)
    docs: dict[str, dict] = {}
    while set(docs) != ids and time.monotonic() - began < 900:
        missing = sorted(ids - set(docs))
        found = search.mget(index=settings.elasticsearch_index, ids=missing)["docs"]
        docs.update({d["_id"]: d["_source"] for d in found if d.get("found")})
        time.sleep(1)
    took = time.monotonic() - began
    good_ok = sum(docs.get(m.image_id, {}).get("status") == "processed" for m in good)
    reasons = Counter(docs.get(m.image_id, {}).get("reason") for m, _ in bad)
    right = sum(docs.get(m.image_id, {}).get("reason") == reason for m, reason in bad)
    print(f"  produced {len(good)} good photos and {len(bad)} bad messages, interleaved")
    print(f"  all indexed after {took:.1f} s: {len(docs)}/{len(ids)}")
    print(f"  good photos processed: {good_ok}/{len(good)}")
    print(f"  bad messages dead-lettered with the expected reason: {right}/{len(bad)} "
          f"{dict(reasons)}")
    return good_ok == len(good) and right == len(bad)


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.hostile_drill", description=__doc__)
    parser.add_argument("--token", required=True, help="a device token (python -m ingest_api "
                        "tokens issue --device drill)")
    parser.add_argument("--rounds", type=int, default=10)
    args = parser.parse_args()
    settings = Settings.from_env()
    url = f"http://{settings.api_host}:{settings.api_port}"
    print(f"hostile drill, {time.strftime('%Y-%m-%d %H:%M')}, {platform.node()}, "
          f"{platform.processor() or platform.machine()}")
    api_sound = drill_api(url, args.token)
    kafka_sound = drill_kafka(settings, args.rounds)
    print(f"\npromises kept: API {api_sound}, stream {kafka_sound}")
    return 0 if api_sound and kafka_sound else 1


if __name__ == "__main__":
    raise SystemExit(main())
