"""Ids of new records: UUID version 7 (RFC 9562), time first, so an index on them grows at its end.

A random (version 4) id lands on a random page of every index that holds it: once a store holds a few
hundred thousand streams, each new one dirtied an index page of its own at commit, and commands slowed as
history grew (issue 12). A time-ordered id lands beside the last one. Every service names its new
aggregates (initiatives, campaigns, units, members, inspections, rounds, proposals, …) and the store its
events with ``time_ordered_id``.

What it shows: the millisecond the record was made, which the record itself already shows (its creation
date) to whoever may see its id. What it keeps: 74 random bits from the operating system's CSPRNG, as
unguessable as a version 4 id's 122 bits need to be for ids that name records behind authorisation (an id
is an address, never a credential). Old random ids stay valid everywhere: nothing parses the version digit.
"""

import os
import time
from collections import deque

_RANDOM_BYTES = 10  # 80 bits read, 74 used: 12 after the version digit, 62 after the variant bits
_PER_READ = 256  # ids' random bits fetched per os.urandom call (one system call, not one per id)
_LOW_62 = (1 << 62) - 1
_spare: deque[int] = deque()  # popleft is atomic: two threads never take the same bits


def _random_74() -> int:
    """74 bits from ``os.urandom``, read for 256 ids at a time (the read per id was 17% of an append)."""
    try:
        return _spare.popleft()
    except IndexError:
        pool = os.urandom(_RANDOM_BYTES * _PER_READ)
        _spare.extend(
            int.from_bytes(pool[i : i + _RANDOM_BYTES], "big") >> 6
            for i in range(_RANDOM_BYTES, len(pool), _RANDOM_BYTES)
        )
        return int.from_bytes(pool[:_RANDOM_BYTES], "big") >> 6


# A forked worker must not hand out the bits its parent kept: the child reads its own.
os.register_at_fork(after_in_child=_spare.clear)


def time_ordered_id() -> str:
    """A UUID version 7: 48 bits of milliseconds since the epoch, the version, 12 random bits, the
    variant, 62 random bits; written as the canonical 36-character text (formatted here: building a
    ``uuid.UUID`` to print it cost as much as the rest)."""
    bits = _random_74()
    value = (time.time_ns() // 1_000_000) << 80 | 0x7 << 76 | (bits >> 62) << 64 | 0b10 << 62 | bits & _LOW_62
    h = f"{value:032x}"
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"
