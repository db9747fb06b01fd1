"""The stream's alerts in a drill on real servers: the streaming job runs on a stack of its own
(spare_stack.py), watched by fast monitoring (tests/infra/monitoring/watching.py). Its
Elasticsearch stops while photos arrive: every batch fails, the query restarts, and
StreamQueryFailing fires beside DependencyDown; Elasticsearch starts again, the stream catches
up, and both resolve in the alert log.
"""

from __future__ import annotations

import pytest

from infra.stack import LocalStack
from kit.field_messages import documents, photo_messages, produce
from kit.spare_stack import SpareStack
from tests.infra.monitoring.watching import eventually, fast_monitoring, firing, in_log, query

CATCH_UP_S = 180


@pytest.fixture(scope="module")
def watched(kafka_stack, tmp_path_factory):
    """The spare stack's settings, with monitoring up in its stack dir; all removed after."""
    stack = SpareStack(kafka_stack, broker_on_own_s3=False)
    settings = fast_monitoring(stack.settings, tmp_path_factory.mktemp("rules"))
    try:
        stack.up()
        LocalStack(settings).up(["prometheus"])
        yield stack, settings
    finally:
        LocalStack(settings).down(["prometheus", "alertmanager", "blackbox", "alertlog"])
        stack.close()


def indexed(settings) -> set[str]:
    try:
        return set(documents(settings))
    except Exception:  # Elasticsearch is stopped or still starting
        return set()


def test_a_failing_stream_fires_its_alert_and_resolves_once_it_catches_up(watched):
    stack, settings = watched
    sent = photo_messages(3)
    produce(settings.kafka_bootstrap_servers, settings.kafka_topic, sent)
    eventually(lambda: {m.image_id for m in sent} <= indexed(settings), "the first photos",
               timeout=CATCH_UP_S)
    eventually(lambda: query(settings, "stream_query_restarts_total"), "Prometheus scrapes it")
    assert not firing(settings, "StreamQueryFailing")

    stack.down("es")
    more = photo_messages(3, first=3)
    produce(settings.kafka_bootstrap_servers, settings.kafka_topic, more)

    eventually(lambda: firing(settings, "StreamQueryFailing"), "StreamQueryFailing fires")
    eventually(lambda: in_log(settings, "firing", "StreamQueryFailing"), "it reaches the log")
    eventually(lambda: in_log(settings, "firing", "DependencyDown", server="elasticsearch"),
               "Elasticsearch's probe alert reaches the log")

    stack.up("es")

    eventually(lambda: {m.image_id for m in sent + more} <= indexed(settings),
               "the stream catches up", timeout=CATCH_UP_S)
    eventually(lambda: in_log(settings, "resolved", "StreamQueryFailing"), "it resolves")
    eventually(lambda: in_log(settings, "resolved", "DependencyDown", server="elasticsearch"),
               "Elasticsearch's alert resolves")
