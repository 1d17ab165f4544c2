"""Shared-prefix KV caching for causal LMs: the tokens every prompt of a call starts with are read
once, and their key-value cache is copied into each batch (see `TextModel.generate(prefix=...)`).

Which tokens are shared is decided on the token ids the uncached path would read (the longest
common prefix of the rows, so a tokenizer that merges across the prefix's end changes nothing),
and the rows keep their own positions: the cached path reads the same tokens at the same positions.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Sequence
from typing import Any


def shared_length(rows: Sequence[Sequence[int]], keep: int = 1) -> int:
    """Length of the longest common prefix of `rows`, leaving at least `keep` tokens of each row
    unshared (the model must read one of a row's own tokens to predict its next)."""
    if not rows:
        return 0
    limit = min(len(r) for r in rows) - keep
    first = rows[0]
    n = 0
    while n < limit and all(r[n] == first[n] for r in rows):
        n += 1
    return max(n, 0)


class PrefixCache:
    """The KV cache of the last prefix a model read (one entry: a run asks one prefix many times),
    handed out as a fresh copy per batch since decoding appends to it."""

    def __init__(self, encode: Callable[[list[int]], Any]) -> None:
        self._encode = encode  # prefix ids -> the model's cache for a batch of one
        self._key: tuple[int, ...] | None = None
        self._cache: Any = None

    def usable(self, ids: Sequence[int]) -> bool:
        """Whether this model's cache can be copied per batch (dynamic caches can; legacy tuples
        and other kinds fall back to reading the prefix with every prompt)."""
        return hasattr(self._get(ids), "batch_repeat_interleave")

    def for_batch(self, ids: Sequence[int], batch: int) -> Any:
        """A copy of the prefix cache repeated to `batch` rows."""
        cache = copy.deepcopy(self._get(ids))
        cache.batch_repeat_interleave(batch)
        return cache

    def _get(self, ids: Sequence[int]) -> Any:
        key = tuple(ids)
        if key != self._key:
            self._key, self._cache = key, self._encode(list(ids))
        return self._cache
