"""One HTTP attempt of one delivery: to the checked address, signed, bounded.

The request goes to the address app.webhooks.targets checked, with the URL's host in
`Host` and, for https, in TLS (SNI and certificate check), so a second DNS answer can
never redirect it. Redirects are not followed, the whole exchange has one time limit,
and at most MAX_RESPONSE_BYTES of the answer are read.
"""

import asyncio
import ipaddress
import time
from dataclasses import dataclass
from urllib.parse import urlunsplit

import httpx

from app.webhooks.targets import RefusedTarget, Target, resolve

MAX_RESPONSE_BYTES = 64 * 1024
USER_AGENT = "live-sessions-webhooks/1"


@dataclass(frozen=True)
class Outcome:
    succeeded: bool
    latency_ms: int
    status: int | None  # the HTTP status, when an answer came
    error: str | None  # why it failed, when it did


def new_client(max_connections: int) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        follow_redirects=False,
        # Proxies from the environment would take the connection out of our hands.
        trust_env=False,
        limits=httpx.Limits(max_connections=max_connections, max_keepalive_connections=20),
        headers={"user-agent": USER_AGENT},
    )


async def attempt(
    client: httpx.AsyncClient,
    url: str,
    headers: dict[str, str],
    body: str,
    *,
    timeout_s: float,
    allow_insecure: bool,
) -> Outcome:
    started = time.monotonic()

    def outcome(status: int | None, error: str | None) -> Outcome:
        latency = int((time.monotonic() - started) * 1000)
        succeeded = error is None and status is not None and 200 <= status < 300
        return Outcome(succeeded, latency, status, error)

    try:
        async with asyncio.timeout(timeout_s):
            target = await resolve(url, allow_insecure=allow_insecure)
            status = await _post(client, target, headers, body.encode())
    except RefusedTarget as error:
        return outcome(None, f"refused target: {error}")
    except TimeoutError:
        return outcome(None, f"no answer within {timeout_s:g} s")
    except httpx.HTTPError as error:
        return outcome(None, f"{type(error).__name__}: {error}".rstrip(": "))
    return outcome(status, None if 200 <= status < 300 else f"answered {status}")


async def _post(
    client: httpx.AsyncClient, target: Target, headers: dict[str, str], body: bytes
) -> int:
    host = (
        f"[{target.address}]"
        if isinstance(target.address, ipaddress.IPv6Address)
        else str(target.address)
    )
    parts = target.url
    url = urlunsplit((parts.scheme, f"{host}:{target.port}", parts.path, parts.query, ""))
    extensions = {"sni_hostname": target.host} if target.url.scheme == "https" else {}
    request = client.build_request(
        "POST",
        url,
        content=body,
        headers={
            **headers,
            "host": target.url.netloc.rpartition("@")[2],
            "content-type": "application/json",
        },
        extensions=extensions,
    )
    response = await client.send(request, stream=True)
    try:
        read = 0
        async for chunk in response.aiter_raw():
            read += len(chunk)
            if read >= MAX_RESPONSE_BYTES:
                break
    finally:
        await response.aclose()
    return response.status_code
