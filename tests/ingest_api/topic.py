"""Reading the test topic back: where its partitions end, and the record at an offset.

High watermarks come from Fetch responses (consumer.highwater after a poll): Tansu answers
ListOffsets(LATEST) wrongly, so end_offsets() cannot be trusted (see LOCAL_STACK.md).
"""

from __future__ import annotations

import time

from kafka import KafkaConsumer, TopicPartition
from kafka.consumer.fetcher import ConsumerRecord

WAIT_S = 15


class TopicReader:
    def __init__(self, bootstrap_servers: str, topic: str):
        self.bootstrap_servers = bootstrap_servers
        self.topic = topic

    def highwaters(self) -> dict[int, int]:
        """Partition -> offset of the next message, for every partition of the topic."""
        with self._consumer() as consumer:
            partitions = [TopicPartition(self.topic, p) for p in self._partitions(consumer)]
            consumer.assign(partitions)
            for partition in partitions:
                consumer.seek(partition, 0)
            deadline = time.monotonic() + WAIT_S
            while any(consumer.highwater(tp) is None for tp in partitions):
                assert time.monotonic() < deadline, "no Fetch response for every partition"
                consumer.poll(timeout_ms=200)
            return {tp.partition: consumer.highwater(tp) for tp in partitions}

    def record_at(self, partition: int, offset: int) -> ConsumerRecord:
        """The message at partition/offset, read with assign + seek."""
        tp = TopicPartition(self.topic, partition)
        with self._consumer() as consumer:
            consumer.assign([tp])
            consumer.seek(tp, offset)
            deadline = time.monotonic() + WAIT_S
            while time.monotonic() < deadline:
                for record in consumer.poll(timeout_ms=500).get(tp, []):
                    if record.offset == offset:
                        return record
        raise AssertionError(f"no record at {self.topic}/{partition}@{offset}")

    def _partitions(self, consumer: KafkaConsumer) -> set[int]:
        deadline = time.monotonic() + WAIT_S
        while not (partitions := consumer.partitions_for_topic(self.topic)):
            assert time.monotonic() < deadline, f"topic {self.topic} has no partitions"
            time.sleep(0.2)
        return partitions

    def _consumer(self) -> KafkaConsumer:
        return KafkaConsumer(
            bootstrap_servers=self.bootstrap_servers,
            group_id=None,
            enable_auto_commit=False,
            max_partition_fetch_bytes=1,  # one batch per partition is enough for a watermark
            fetch_max_bytes=64 * 1024 * 1024,
        )
