"""Small argparse helpers shared by the command lines (lib.demo, lib.predict, stage CLIs)."""

from __future__ import annotations

import argparse
from collections.abc import Callable


def positive(minimum: int = 1) -> Callable[[str], int]:
    """argparse type: an integer >= minimum, with a message that names the problem."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"must be at least {minimum}, got {value}")
        return value

    return parse
