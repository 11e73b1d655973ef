"""CPU time and memory of a process and its children, from /proc."""

import os
from pathlib import Path

TICKS = os.sysconf("SC_CLK_TCK")


def _stat(pid: int) -> list:
    text = Path("/proc/%d/stat" % pid).read_text()
    return text[text.rindex(")") + 2:].split()  # fields from 3 (state) on


def tree(pid: int) -> list:
    """``pid`` and its descendants (uvicorn's workers, when there are some)."""
    children = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parent = int(_stat(int(entry.name))[1])
            except (OSError, ValueError, IndexError):
                continue
            children.setdefault(parent, []).append(int(entry.name))
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        todo.extend(children.get(current, ()))
    return found


def cpu_seconds(pid: int) -> float:
    """utime + stime of the process tree, in seconds."""
    total = 0
    for member in tree(pid):
        try:
            fields = _stat(member)
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / TICKS


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
