"""`--shard i/N`: split a stage's items over N independent runs (machines or processes).

A shard is numbered from 0 (`0/2` and `1/2` are the two halves). Items are assigned by a hash
of their key, not by their position in a list, so a shard decides on its own which items are
its own, the decision never changes when other items are added or removed (a resumed or
enlarged run keeps every finished item in the same shard), and every item is in exactly one
shard: the union of the N shards is the whole.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TypeVar

T = TypeVar("T")

_SPEC = re.compile(r"^\s*(\d+)\s*/\s*(\d+)\s*$")


class ShardError(ValueError):
    """A malformed shard specification; the message says what a valid one looks like."""


@dataclass(frozen=True)
class Shard:
    index: int  # 0-based
    count: int

    def __post_init__(self) -> None:
        if self.count < 1:
            raise ShardError(f"shard count must be at least 1, got {self.count}")
        if not 0 <= self.index < self.count:
            raise ShardError(
                f"shard index must be between 0 and {self.count - 1} for {self.count} shards, "
                f"got {self.index} (shards are numbered from 0: 0/{self.count} .. "
                f"{self.count - 1}/{self.count})"
            )

    def __str__(self) -> str:
        return f"{self.index}/{self.count}"

    @property
    def whole(self) -> bool:
        return self.count == 1

    def owns(self, key: str) -> bool:
        """Whether the item with this key belongs to this shard."""
        return assign(key, self.count) == self.index

    def select(self, items: Iterable[T], key: Callable[[T], str]) -> list[T]:
        """The items of this shard, in their original order."""
        return [item for item in items if self.owns(key(item))]


WHOLE = Shard(0, 1)
ALL = WHOLE  # the name the inference CLI uses


def assign(key: str, count: int) -> int:
    """The shard (0..count-1) of an item key: the first 8 bytes of its SHA-1, modulo count.

    SHA-1 rather than Python's hash(): the latter is salted per process, and shards run in
    different processes and on different machines.
    """
    digest = hashlib.sha1(key.encode("utf-8"), usedforsecurity=False).digest()
    return int.from_bytes(digest[:8], "big") % count


def parse(spec: str | Shard | None) -> Shard:
    """`"i/N"` (0 <= i < N) to a Shard; None or "" is the whole (one shard)."""
    if isinstance(spec, Shard):
        return spec
    if spec is None or not str(spec).strip():
        return WHOLE
    match = _SPEC.match(str(spec))
    if not match:
        raise ShardError(
            f"shard must look like i/N with whole numbers 0 <= i < N (e.g. 0/4), got {spec!r}"
        )
    return Shard(int(match.group(1)), int(match.group(2)))
