"""nginx in front of gunicorn, on the real stack: slow clients cost nginx, not the API's threads.

The front (nginx + gunicorn) runs from a stack dir of this module's own, on free ports, with a
topic of its own on the session's broker. Uploads carry the session's device token.
"""

from __future__ import annotations

import os
import shutil
import time
import uuid
from pathlib import Path

import pytest

from bench.slow_clients import slow_clients
from infra.nginx import REQUEST_ID, error_bodies
from infra.schemas import remove_topics
from infra.stack import LocalStack
from ingest_api.ops.errors import too_large_message
from kit.api_client import ApiClient
from kit.stack import isolated_settings
from kit.uploads import jpeg
from tests.ingest_api.apps import device_token
from tests.ingest_api.test_ingest_gunicorn import TWENTY_FIVE_MB, post_whole

SLOW_CLIENTS = 50
# The origin of a web view served elsewhere, allowed to call the API (CORS_ORIGINS).
WEB_VIEW = "https://fields.example.org"
# Generous bounds on the real, shared 2-core machine; bench/api_drill.py measures the figures.
ANSWER_BOUND_S = 2.0


@pytest.fixture(scope="module")
def front(kafka_stack, es_stack):
    """Settings of a running nginx + gunicorn of this module's stack dir; stopped afterwards."""
    settings = isolated_settings(
        "front-", kafka_stack,
        kafka_topic=f"front-test-{uuid.uuid4().hex[:8]}",
        upload_rate_limit="10000/minute",
        cors_origins=WEB_VIEW,
    )
    stack = LocalStack(settings)
    try:
        stack.up(["nginx"])  # the API with it; the session's Kafka and Elasticsearch answer
        yield settings
    finally:
        stack.down()
        remove_topics(settings.kafka_bootstrap_servers, [settings.kafka_topic])
        shutil.rmtree(settings.stack_dir, ignore_errors=True)


def public_url(settings) -> str:
    return f"http://{settings.api_host}:{settings.api_port}"


def api(settings, timeout: float = 10, **headers) -> ApiClient:
    """The public address, with the session's device token."""
    return ApiClient(public_url(settings), device_token(settings.api_token_store), timeout,
                     headers=headers)


def anonymous(settings, **headers) -> ApiClient:
    """The public address, without a token."""
    return ApiClient(public_url(settings), timeout=10, headers=headers)


def timed(call):
    """(seconds, result) of call()."""
    start = time.monotonic()
    result = call()
    return time.monotonic() - start, result


def upload(settings, seed: int) -> int:
    return api(settings).post_image(jpeg(seed=seed), "p.jpg").status


def as_nginx_answers(settings, status: int, request_id: str) -> dict:
    """nginx's own error body for `status`, with the request id it filled in."""
    body = error_bodies(settings)[status]
    assert body["request_id"] == REQUEST_ID
    return {**body, "request_id": request_id}


def test_the_public_address_is_nginx_and_gunicorn_listens_on_the_internal_port(front):
    assert anonymous(front).is_alive().status == 200
    internal = f"http://{front.api_host}:{front.api_internal_port}"
    assert ApiClient(internal, timeout=10).is_alive().status == 200
    status = {line.name: line for line in LocalStack(front).status(["api", "nginx"])}
    assert status["nginx"].pid is not None and status["api"].pid is not None


def test_nginx_runs_in_the_foreground_as_the_recorded_process_with_unprivileged_workers(front):
    master = LocalStack(front).status(["nginx"])[0].pid
    assert Path(f"/proc/{master}/exe").resolve().name == "nginx"
    children = Path(f"/proc/{master}/task/{master}/children").read_text()
    workers = [int(pid) for pid in children.split()]
    assert workers
    if os.geteuid() == 0:
        for worker in workers:
            assert Path(f"/proc/{worker}").stat().st_uid != 0


def test_an_upload_through_nginx_is_accepted(front):
    assert upload(front, seed=71) == 202


def test_25_mb_get_the_apis_json_413_from_a_client_that_sends_everything_first(front):
    big = b"\xff\xd8\xff" + bytes(TWENTY_FIVE_MB)

    status, body = post_whole(api(front, timeout=60), big)

    assert status == 413
    assert body == as_nginx_answers(front, 413, body["request_id"])
    assert body["message"] == too_large_message(front.max_upload_bytes)


def test_25_mb_get_the_apis_json_413_from_the_kit_client(front):
    big = b"\xff\xd8\xff" + bytes(TWENTY_FIVE_MB)

    response = api(front, timeout=60).post_image(big, "b.jpg")

    assert response.status == 413
    assert response.headers["Content-Type"] == "application/json"
    request_id = response.headers["X-Request-ID"]
    assert response.json() == as_nginx_answers(front, 413, request_id)


def test_a_file_over_the_limit_in_a_request_under_it_gets_the_apps_own_413(front):
    data = b"\xff\xd8\xff" + bytes(front.max_upload_bytes)

    response = api(front, timeout=60).post_image(data, "b.jpg")

    assert response.status == 413
    assert response.json()["error"] == "too_large"
    assert response.json()["request_id"] == response.headers["X-Request-ID"]
    # the same limit as nginx's own 413 names: the user's, not the request's with its form
    assert response.json()["message"] == too_large_message(front.max_upload_bytes)
    assert f"{front.max_upload_bytes:,} bytes" in response.json()["message"]


def test_the_api_gets_the_clients_request_id_through_nginx_or_else_nginxs_own(front):
    given = api(front).request("GET", "/no/such/page", headers={"X-Request-ID": "phone-1234-abcd"})
    made = api(front).request("GET", "/no/such/page")

    assert given.status == made.status == 404
    assert given.json()["request_id"] == given.headers["X-Request-ID"] == "phone-1234-abcd"
    assert len(made.json()["request_id"]) == 32  # nginx's $request_id, 32 hex digits
    assert logged(Path(front.stack_dir) / "nginx" / "access.log", f"id {made.json()['request_id']}")


def logged(log: Path, text: str, within_s: float = 5) -> bool:
    """Whether `text` shows in the log within a few seconds: nginx writes a request's line
    once it has finished the request, which can be just after the client read the answer."""
    deadline = time.monotonic() + within_s
    while text not in log.read_text():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.1)
    return True


@pytest.mark.timeout(120)
def test_50_slow_header_and_50_slow_body_clients_do_not_delay_other_clients(front):
    host, port = front.api_host, front.api_port
    with (
        slow_clients(host, port, SLOW_CLIENTS, "headers") as headers,
        slow_clients(host, port, SLOW_CLIENTS, "body") as bodies,
    ):
        time.sleep(2)  # a couple of bytes each: gunicorn alone would have every thread taken
        answers = [timed(lambda: anonymous(front).is_alive().status) for _ in range(3)]
        answers += [timed(lambda seed=seed: upload(front, seed)) for seed in range(100, 103)]
        held = (headers.open, bodies.open)

    assert held == (SLOW_CLIENTS, SLOW_CLIENTS)
    assert [status for _, status in answers] == [200] * 3 + [202] * 3
    assert max(seconds for seconds, _ in answers) < ANSWER_BOUND_S, answers


def test_nginx_answers_json_503_with_retry_after_while_gunicorn_is_down(front):
    stack = LocalStack(front)
    stack.down(["api"])
    try:
        answer = anonymous(front).is_alive()
    finally:
        stack.up(["api"])

    assert answer.status == 503
    assert answer.headers["Retry-After"].isdigit()
    request_id = answer.headers["X-Request-ID"]
    assert answer.json() == as_nginx_answers(front, 503, request_id)


def test_metrics_are_refused_on_the_public_port_and_served_on_the_internal_one(front):
    public = api(front).metrics()
    internal = ApiClient(f"http://{front.api_host}:{front.api_internal_port}", timeout=10).metrics()

    assert public.status == 404
    assert public.json() == as_nginx_answers(front, 404, public.headers["X-Request-ID"])
    assert internal.status == 200
    assert "ingest_api_requests_total" in internal.text


def test_a_web_views_preflight_is_answered_through_nginx_without_a_token(front):
    response = anonymous(front).request("OPTIONS", "/post_image", headers={
        "Origin": WEB_VIEW, "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization",
    })

    assert response.status == 204
    assert response.headers["Access-Control-Allow-Origin"] == WEB_VIEW
    assert "Authorization" in response.headers["Access-Control-Allow-Headers"]


def test_a_web_views_upload_through_nginx_names_its_origin_and_its_rate_limit(front):
    response = api(front, Origin=WEB_VIEW).post_image(jpeg(seed=72), "p.jpg")

    assert response.status == 202
    assert response.headers["Access-Control-Allow-Origin"] == WEB_VIEW
    assert "RateLimit-Remaining" in response.headers["Access-Control-Expose-Headers"]
    assert response.headers["RateLimit-Limit"] == "10000"
    assert int(response.headers["RateLimit-Remaining"]) < 10000


def test_nginxs_own_answers_name_an_allowed_origin_and_no_other(front):
    big = b"\xff\xd8\xff" + bytes(TWENTY_FIVE_MB)
    too_large = api(front, timeout=30, Origin=WEB_VIEW).post_image(big, "b.jpg")
    metrics = anonymous(front, Origin="https://elsewhere.example.com").metrics()

    assert too_large.status == 413
    assert too_large.headers["Access-Control-Allow-Origin"] == WEB_VIEW
    assert "X-Request-ID" in too_large.headers["Access-Control-Expose-Headers"]
    assert metrics.status == 404
    assert "Access-Control-Allow-Origin" not in metrics.headers
