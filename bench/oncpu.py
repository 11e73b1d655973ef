"""A service instance with an on-CPU sampler inside, for
``bench.profile_services``.

``python -m bench.oncpu OUT run --config CONFIG MODULE`` is ``nameko run
--config CONFIG MODULE``, plus a sampler that SIGUSR1 starts and SIGUSR2
stops, writing the stacks it took to OUT in py-spy's raw format (one stack a
line, root first, then the count).

It samples on the process's own CPU time (``ITIMER_PROF``, in steps of the
kernel's clock tick), so a sample is only ever taken while the process runs.
py-spy, from outside, counts a thread as busy whenever it is runnable, also
while it waits for a core: on two busy cores that over-weights the code that
runs just after a send wakes the peer (the broker, Redis).  The handler runs
at the next bytecode of the greenlet that was running, so the time of a C
call or a system call goes to the Python frame that made it.
"""

import collections
import signal
import sys
import sysconfig
from pathlib import Path

ROOT = str(Path(__file__).resolve().parent.parent) + "/"
PREFIXES = sorted({sysconfig.get_paths()[key] + "/"
                   for key in ("purelib", "platlib", "stdlib")} | {ROOT},
                  key=len, reverse=True)
INTERVAL = 0.001  # seconds of CPU; the kernel's tick makes it coarser


def where(filename: str) -> str:
    """A code file's path as py-spy shows it: from its package on."""
    for prefix in PREFIXES:
        if filename.startswith(prefix):
            return filename[len(prefix):]
    return filename


def stack(frame) -> str:
    frames = []
    while frame is not None:
        code = frame.f_code
        frames.append("%s (%s:%d)" % (code.co_qualname, where(code.co_filename),
                                      frame.f_lineno or 0))
        frame = frame.f_back
    return ";".join(reversed(frames))


class Sampler:
    def __init__(self, out: str):
        self.out = out
        self.counts = collections.Counter()

    def install(self):
        signal.signal(signal.SIGPROF, self.sample)
        signal.signal(signal.SIGUSR1, self.start)
        signal.signal(signal.SIGUSR2, self.stop)

    def sample(self, signum, frame):
        self.counts[stack(frame)] += 1

    def start(self, signum=None, frame=None):
        self.counts.clear()
        signal.setitimer(signal.ITIMER_PROF, INTERVAL, INTERVAL)

    def stop(self, signum=None, frame=None):
        signal.setitimer(signal.ITIMER_PROF, 0, 0)
        lines = ["thread (main);%s %d\n" % item for item in self.counts.items()]
        partial = Path(self.out + ".part")
        partial.write_text("".join(lines))
        partial.rename(self.out)


def main() -> None:
    Sampler(sys.argv[1]).install()
    sys.argv = ["nameko", *sys.argv[2:]]
    from nameko.cli.main import main as nameko_main

    nameko_main()


if __name__ == "__main__":
    main()
