"""A filter for `./run_all.sh`'s standard error: TensorFlow's start-up banner once, not twice per
notebook.

Every process that imports TensorFlow prints two lines from C++ before its logging starts, and
prints them twice (two of its libraries carry them): "WARNING: All log messages before
absl::InitializeLog() is called are written to STDERR" and "I0000 ... port.cc:153] oneDNN
custom operations are on ...". No environment variable silences them (TF_CPP_MIN_LOG_LEVEL acts
only after), so a run of 16 notebooks would print 64 such lines. This passes everything else
through as it arrives (progress bars that redraw with a carriage return included) and each of
the two lines only the first time.

    exec 2> >(python -u -m lib.banner_once >&2)
"""

from __future__ import annotations

import re
import signal
import sys
from typing import BinaryIO

# each ends its line; it may begin mid-line, after a progress bar the kernel drew over
BANNER = (
    re.compile(rb"WARNING: All log messages before absl::InitializeLog\(\) is called[^\n]*\n"),
    re.compile(rb"I\d{4} [\d:. ]+\d+ port\.cc:\d+\] oneDNN custom operations are on[^\n]*\n"),
)
# the rest of an unfinished line that may still become one of them: held until its newline
MAYBE = re.compile(rb"W(A(R(N(I(N(G(:( .*)?)?)?)?)?)?)?)?|I(\d{1,4}( .*)?)?", re.DOTALL)


class Filter:
    """Feed it chunks of bytes; it returns what to pass on now."""

    def __init__(self) -> None:
        self.seen: set[int] = set()
        self.held = b""

    def feed(self, chunk: bytes) -> bytes:
        data = self.held + chunk
        cut = data.rfind(b"\n") + 1
        lines, rest = data[:cut], data[cut:]
        out = b"".join(self._line(line) for line in lines.splitlines(keepends=True))
        start = next((i for i in range(len(rest)) if MAYBE.fullmatch(rest, i)), len(rest))
        self.held = rest[start:]
        return out + rest[:start]

    def _line(self, line: bytes) -> bytes:
        for i, pattern in enumerate(BANNER):
            found = pattern.search(line)
            if found:
                if i in self.seen:
                    return line[: found.start()] + line[found.end() :]
                self.seen.add(i)
        return line

    def close(self) -> bytes:
        held, self.held = self.held, b""
        return held


def run(source: BinaryIO, sink: BinaryIO) -> None:
    banner = Filter()
    while chunk := source.read1(65536):
        sink.write(banner.feed(chunk))
        sink.flush()
    sink.write(banner.close())
    sink.flush()


if __name__ == "__main__":
    # Ctrl-C reaches the whole process group: the filter outlives it to pass on what the
    # interrupted notebook still prints, and ends when the last writer closes its input
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    run(sys.stdin.buffer, sys.stdout.buffer)
