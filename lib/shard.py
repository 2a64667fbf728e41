"""`--shard i/N`: split work over N independent processes or machines, no coordinator.

Shard i of N takes the items whose position in the sorted list is i modulo N, so every process
computes the same partition from the same inputs, the shards are disjoint, and their union is
everything. Shards are numbered from 0.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TypeVar

T = TypeVar("T")
_SPEC = re.compile(r"^\s*(\d+)\s*/\s*(\d+)\s*$")


@dataclass(frozen=True)
class Shard:
    index: int
    count: int

    def __post_init__(self) -> None:
        if self.count < 1 or not 0 <= self.index < self.count:
            raise ValueError(f"shard {self.index}/{self.count}: need 0 <= i < N and N >= 1")

    def select(self, items: Iterable[T]) -> list[T]:
        """This shard's items: sorted, then every N-th starting at i (stable across processes)."""
        return sorted(items)[self.index :: self.count]  # type: ignore[type-var]

    def __str__(self) -> str:
        return f"{self.index}/{self.count}"


ALL = Shard(0, 1)


def parse(spec: str | None) -> Shard:
    """'1/4' -> Shard(1, 4); None or '' -> the single shard 0/1."""
    if not spec:
        return ALL
    match = _SPEC.match(spec)
    if not match:
        raise ValueError(f"shard must look like i/N (e.g. 0/4), got {spec!r}")
    return Shard(int(match.group(1)), int(match.group(2)))
