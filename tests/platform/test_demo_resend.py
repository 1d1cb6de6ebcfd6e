"""The demo loader sends again what a broken connection lost, and only what may be sent again: a real
server on a free port closes its first connections without answering (as a server closing a kept-alive
connection just as a request arrives does)."""

import asyncio

import httpx
import pytest

from demo.resend import Resending, client


class Dropping:
    """Reads each request; closes the first ``drops`` connections unanswered, answers 201 after them."""

    def __init__(self, drops: int) -> None:
        self.drops, self.requests = drops, 0

    async def __call__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        self.requests += 1
        if self.requests > self.drops:
            writer.write(b"HTTP/1.1 201 Created\r\ncontent-length: 2\r\ncontent-type: application/json\r\n\r\n{}")
            await writer.drain()
        writer.close()


async def serve(drops: int) -> tuple[asyncio.Server, Dropping, str]:
    handler = Dropping(drops)
    server = await asyncio.start_server(handler, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    return server, handler, f"http://127.0.0.1:{port}"


async def test_a_command_with_its_idempotency_key_is_sent_again_after_a_broken_connection() -> None:
    server, handler, url = await serve(drops=2)
    async with server, client(url, "t", timeout=5) as demo:
        answer = await demo.post("/units", json={"code": "x"}, headers={"Idempotency-Key": "demo:unit:x"})
    assert answer.status_code == 201 and handler.requests == 3


async def test_a_read_is_sent_again_after_a_broken_connection() -> None:
    server, handler, url = await serve(drops=1)
    async with server, client(url, "t", timeout=5) as demo:
        assert (await demo.get("/health")).status_code == 201
    assert handler.requests == 2


async def test_a_command_without_a_key_is_not_sent_twice() -> None:
    server, handler, url = await serve(drops=1)
    async with server, client(url, "t", timeout=5) as demo:
        with pytest.raises((httpx.ReadError, httpx.RemoteProtocolError)):
            await demo.post("/units", json={"code": "x"})
    assert handler.requests == 1


async def test_it_gives_up_after_its_tries() -> None:
    server, handler, url = await serve(drops=10)
    async with server, httpx.AsyncClient(base_url=url, transport=Resending(tries=3)) as demo:
        with pytest.raises((httpx.ReadError, httpx.RemoteProtocolError)):
            await demo.get("/health")
    assert handler.requests == 3
