"""CPU time and memory of processes and their children, from /proc."""

import os
from pathlib import Path

TICKS = os.sysconf("SC_CLK_TCK")


def _stat(pid: int) -> list:
    text = Path("/proc/%d/stat" % pid).read_text()
    return text[text.rindex(")") + 2:].split()  # fields from 3 (state) on


def _children() -> dict:
    """Parent pid -> its children's pids, for every process now."""
    children = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parent = int(_stat(int(entry.name))[1])
            except (OSError, ValueError, IndexError):
                continue
            children.setdefault(parent, []).append(int(entry.name))
    return children


def tree(pid: int, children: dict | None = None) -> list:
    """``pid`` and its descendants (uvicorn's workers, the Erlang VM under
    ``rabbitmq-server``'s scripts)."""
    if children is None:
        children = _children()
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        todo.extend(children.get(current, ()))
    return found


def _cpu(pids: list) -> float:
    total = 0
    for member in pids:
        try:
            fields = _stat(member)
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / TICKS


def cpu_seconds(pid: int) -> float:
    """utime + stime of the process tree, in seconds."""
    return _cpu(tree(pid))


def cpu_snapshot(pids: dict) -> dict:
    """utime + stime in seconds of each named process tree (name -> pid),
    read in one pass over /proc."""
    children = _children()
    return {name: _cpu(tree(pid, children)) for name, pid in pids.items()}


def rss_kib(pid: int) -> int:
    """Resident memory of the process tree, in KiB."""
    total = 0
    for member in tree(pid):
        try:
            for line in Path("/proc/%d/status" % member).read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except OSError:
            continue
    return total
