"""The demo loader's HTTP client: a request whose connection broke before any answer came is sent again.

Every command the demo sends carries an Idempotency-Key, so a second send cannot record anything twice,
and a read can always be repeated. On a busy machine a kept-alive connection that the server closes just
as a request goes out ends in such an error (``ReadError``, ``RemoteProtocolError``); without this, one of
them stopped the whole demo load, and with it ``make run``.
"""

import asyncio

import httpx

BROKEN = (httpx.ConnectError, httpx.ReadError, httpx.WriteError, httpx.RemoteProtocolError)


class Resending(httpx.AsyncBaseTransport):
    def __init__(self, tries: int = 5, inner: httpx.AsyncBaseTransport | None = None) -> None:
        self.tries, self.inner = tries, inner or httpx.AsyncHTTPTransport()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        repeatable = request.method in ("GET", "HEAD") or "idempotency-key" in request.headers
        for attempt in range(1, self.tries + 1):
            try:
                return await self.inner.handle_async_request(request)
            except BROKEN:
                if not repeatable or attempt == self.tries:
                    raise
                await asyncio.sleep(0.2 * attempt)
        raise AssertionError("unreachable")  # the loop returns or raises

    async def aclose(self) -> None:
        await self.inner.aclose()


def client(url: str, token: str, timeout: float) -> httpx.AsyncClient:
    """A client of one service's API carrying ``token``, sending again what a broken connection lost."""
    headers = {"Authorization": f"Bearer {token}"}
    return httpx.AsyncClient(base_url=url, headers=headers, timeout=timeout, transport=Resending())
