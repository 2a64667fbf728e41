"""run_all.sh's standard-error filter: TensorFlow's start-up lines once, everything else as it
arrives, whatever the chunking."""

import subprocess
import sys

import pytest

from lib.banner_once import Filter

ABSL = b"WARNING: All log messages before absl::InitializeLog() is called are written to STDERR\n"
ONEDNN = (
    b"I0000 00:00:1796281446.318914   10795 port.cc:153] oneDNN custom operations are on. "
    b"You may see slightly different numerical results.\n"
)
KERNEL = ABSL + ONEDNN + ABSL + ONEDNN  # what one process importing TensorFlow prints
STREAM = (
    b"== chimpact/01_eda.ipynb\nExecuting:   0%|  | 0/8\rExecuting:  50%|# | 4/8" + KERNEL
    + b"\rExecuting: 100%|##| 8/8\n   done in 12 s\n== chimpact/02_extract.ipynb\n" + KERNEL
    + b"WARNING: something else the user must see\nI0000 other.cc:1] not the banner\n"
)  # fmt: skip
WANTED = (
    b"== chimpact/01_eda.ipynb\nExecuting:   0%|  | 0/8\rExecuting:  50%|# | 4/8" + ABSL + ONEDNN
    + b"\rExecuting: 100%|##| 8/8\n   done in 12 s\n== chimpact/02_extract.ipynb\n"
    + b"WARNING: something else the user must see\nI0000 other.cc:1] not the banner\n"
)  # fmt: skip


@pytest.mark.parametrize("size", [1, 3, 7, 64, len(STREAM)])
def test_the_banner_passes_once_whatever_the_chunks(size):
    f = Filter()
    out = b"".join(f.feed(STREAM[i : i + size]) for i in range(0, len(STREAM), size)) + f.close()
    assert out == WANTED


def test_a_progress_bar_is_passed_on_before_its_line_ends():
    f = Filter()
    assert f.feed(b"Executing:  50%|# | 4/8") == b"Executing:  50%|# | 4/8"
    assert f.feed(b"\rWARN") == b"\r"  # may become the banner: held
    assert f.feed(b"ING: disk almost full\n") == b"WARNING: disk almost full\n"


def test_as_a_pipe():
    proc = subprocess.run(
        [sys.executable, "-u", "-m", "lib.banner_once"], input=STREAM, capture_output=True,
        timeout=60, check=True,
    )  # fmt: skip
    assert proc.stdout == WANTED


def test_ctrl_c_does_not_lose_what_follows_it():
    import signal
    import time

    proc = subprocess.Popen(
        [sys.executable, "-u", "-m", "lib.banner_once"], stdin=subprocess.PIPE,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )  # fmt: skip
    time.sleep(2)  # started and reading
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(b"KeyboardInterrupt in the notebook\n", timeout=60)
    assert (out, err, proc.returncode) == (b"KeyboardInterrupt in the notebook\n", b"", 0)


def test_run_all_sends_its_standard_error_through_it():
    from pathlib import Path

    text = (Path(__file__).resolve().parents[2] / "run_all.sh").read_text()
    assert "exec 2> >(python -u -m lib.banner_once >&2)" in text
