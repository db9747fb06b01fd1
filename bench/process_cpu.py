"""CPU time from /proc, per process tree and for the whole machine, for the benchmarks.

A process's time includes that of its children that have ended and been waited for, so a
tree's time keeps counting a worker that its parent replaced.
"""

from __future__ import annotations

import os
from pathlib import Path

TICKS = os.sysconf("SC_CLK_TCK")


def process_table() -> dict[int, tuple[int, float]]:
    """Every process's (parent pid, CPU seconds so far, its ended children's included), from
    /proc."""
    table = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (FileNotFoundError, ProcessLookupError):
            continue  # ended meanwhile
        utime, stime, cutime, cstime = map(int, fields[11:15])
        table[int(stat.parent.name)] = (int(fields[1]), (utime + stime + cutime + cstime) / TICKS)
    return table


class ProcessTree:
    """One snapshot of process_table(), read as a tree of parents and children."""

    def __init__(self):
        self.table = process_table()
        self.children: dict[int, list[int]] = {}
        for pid, (parent, _) in self.table.items():
            self.children.setdefault(parent, []).append(pid)

    def own_seconds(self, pid: int) -> float:
        return self.table.get(pid, (0, 0.0))[1]

    def seconds(self, pid: int) -> float:
        """CPU seconds so far of `pid` with all its descendants."""
        return self.own_seconds(pid) + sum(map(self.seconds, self.children.get(pid, ())))


def cpu_seconds(pids: dict[str, int]) -> dict[str, float]:
    """CPU seconds so far of each named process with all its descendants."""
    tree = ProcessTree()
    return {name: tree.seconds(pid) for name, pid in pids.items()}


def listening_pid(port: int) -> int | None:
    """The process listening on 127.0.0.1:`port` (or any address), found through /proc: S3 and
    Elasticsearch may run from another stack dir."""
    inodes = {
        fields[9]
        for table in ("tcp", "tcp6")
        for fields in (line.split() for line in
                       Path(f"/proc/net/{table}").read_text().splitlines()[1:])
        if int(fields[1].rsplit(":", 1)[1], 16) == port and fields[3] == "0A"  # LISTEN
    }
    for fd in Path("/proc").glob("[0-9]*/fd/*"):
        try:
            if fd.readlink().name.removeprefix("socket:[").removesuffix("]") in inodes:
                return int(fd.parent.parent.name)
        except OSError:
            continue  # ended meanwhile, or not ours to read
    return None


def machine_busy_seconds() -> float:
    """CPU time of the whole machine, all cores, outside idle and iowait."""
    user, nice, system, _idle, _iowait, irq, softirq, steal = map(
        int, Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]
    )
    return (user + nice + system + irq + softirq + steal) / TICKS


def tree_cpu(root: int) -> dict[int, tuple[int, float]]:
    """Each living process of root's tree: pid -> (its depth below root, its own CPU seconds so
    far, without its ended children's). The difference of two readings counts no process twice
    and never goes negative; it misses what a process that ended in between had done."""
    parents, seconds = {}, {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (FileNotFoundError, ProcessLookupError):
            continue  # ended meanwhile
        pid = int(stat.parent.name)
        parents[pid], seconds[pid] = int(fields[1]), (int(fields[11]) + int(fields[12])) / TICKS
    depths, level = {root: 0}, [root]
    while level:
        level = [pid for pid, parent in parents.items() if parent in level and pid not in depths]
        depths.update((pid, depths[parents[pid]] + 1) for pid in level)
    return {pid: (depth, seconds[pid]) for pid, depth in depths.items() if pid in seconds}
