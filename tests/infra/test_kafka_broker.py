"""The Tansu broker: the configured topic, and a log that outlives the broker process."""

from __future__ import annotations

import os
import signal
import time

from kafka import KafkaConsumer, KafkaProducer, TopicPartition

from infra.stack import LocalStack


def consume_all(bootstrap_servers: str, topic: str, expected: int) -> list[bytes]:
    consumer = KafkaConsumer(bootstrap_servers=bootstrap_servers, auto_offset_reset="earliest")
    try:
        consumer.assign([TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic)])
        values: list[bytes] = []
        deadline = time.monotonic() + 60
        while len(values) < expected and time.monotonic() < deadline:
            for records in consumer.poll(timeout_ms=1000).values():
                values.extend(record.value for record in records)
        return values
    finally:
        consumer.close()


def test_the_topic_has_the_configured_partitions(kafka_stack):
    consumer = KafkaConsumer(bootstrap_servers=kafka_stack.kafka_bootstrap_servers)
    try:
        partitions = consumer.partitions_for_topic(kafka_stack.kafka_topic)
    finally:
        consumer.close()
    assert partitions == set(range(kafka_stack.kafka_partitions))


def test_messages_survive_a_killed_broker(own_broker):
    stack = LocalStack(own_broker)
    stack.up(["kafka"])
    sent = [f"message {i}".encode() for i in range(30)]
    producer = KafkaProducer(bootstrap_servers=own_broker.kafka_bootstrap_servers, acks="all")
    for value in sent:
        producer.send(own_broker.kafka_topic, value)
    producer.flush()
    producer.close()

    killed = stack.status(["kafka"])[0].pid
    os.kill(killed, signal.SIGKILL)
    assert stack.up(["kafka"]) == []  # the supervisor starts it again; up waits until ready
    assert stack.status(["kafka"])[0].pid not in (None, killed)

    received = consume_all(own_broker.kafka_bootstrap_servers, own_broker.kafka_topic, len(sent))
    assert sorted(received) == sorted(sent)
