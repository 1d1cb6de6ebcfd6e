"""Opening a round pauses the cyclic garbage collector (its objects all live until the commit) and gives it
back as it found it: after the last of overlapping openings, after a refusal, and off if it was off."""

import asyncio
import gc

import pytest

from services.inspections.application.selfinspection import _collector_paused


async def test_overlapping_openings_give_the_collector_back_once_the_last_ends() -> None:
    assert gc.isenabled()
    first_in, second_in, first_out = asyncio.Event(), asyncio.Event(), asyncio.Event()

    async def first() -> None:
        with _collector_paused():
            first_in.set()
            await second_in.wait()
        first_out.set()

    async def second() -> bool:
        await first_in.wait()
        with _collector_paused():
            second_in.set()
            await first_out.wait()
            return gc.isenabled()  # the first ended: still paused for this one

    _, during = await asyncio.gather(first(), second())
    assert during is False and gc.isenabled()


def test_a_refused_opening_gives_the_collector_back() -> None:
    with pytest.raises(ValueError), _collector_paused():
        assert not gc.isenabled()
        raise ValueError("refused")
    assert gc.isenabled()


def test_a_collector_that_was_off_stays_off() -> None:
    gc.disable()
    try:
        with _collector_paused():
            pass
        assert not gc.isenabled()
    finally:
        gc.enable()
