"""Finding ports for servers the tests and benchmarks start beside the shared stack."""

from __future__ import annotations

import socket
from pathlib import Path

from infra.processes import can_bind, free_port_block, free_ports_at


def test_a_port_block_can_be_bound_whole_and_lies_below_the_ephemeral_range():
    ephemeral_low = int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])

    start = free_port_block(10)

    assert start + 10 <= ephemeral_low
    assert all(can_bind(port) for port in range(start, start + 10))


def test_ports_at_offsets_can_all_be_bound():
    start = free_ports_at((0, 100))

    assert can_bind(start) and can_bind(start + 100)


def test_a_port_someone_listens_on_cannot_be_bound():
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        assert not can_bind(listener.getsockname()[1])
