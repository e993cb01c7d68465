"""app.http_protocol end to end: request heads are bounded in size and time, and
connections per process in number, with /healthz answering throughout."""

import contextlib
import socket
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx

from tests.helpers import auth
from tests.server import Server, running_server, server_env

HEAD = b"GET /healthz HTTP/1.1\r\nHost: test\r\n"


def connect(server: Server, timeout: float = 10) -> socket.socket:
    host, port = server.url.removeprefix("http://").split(":")
    return socket.create_connection((host, int(port)), timeout=timeout)


def status_of(answer: bytes) -> int:
    return int(answer.split(b" ", 2)[1]) if answer.startswith(b"HTTP/1.1 ") else 0


def read_answer(sock: socket.socket) -> bytes:
    """What the server sent before closing (or resetting) the connection."""
    chunks = []
    with contextlib.suppress(ConnectionResetError):
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


def closed_by_server(sock: socket.socket) -> bool:
    """Whether the server has closed `sock`, once what it sent before is read."""
    sock.setblocking(False)
    try:
        while sock.recv(65536):
            pass
    except BlockingIOError:
        return False
    except OSError:
        pass
    return True


def open_fds(server: Server) -> int:
    return len(list(Path(f"/proc/{server.process.pid}/fd").iterdir()))


@contextlib.contextmanager
def sockets() -> Iterator[list[socket.socket]]:
    opened: list[socket.socket] = []
    try:
        yield opened
    finally:
        for sock in opened:
            sock.close()


def test_a_head_over_16_kib_gets_431_and_one_under_it_is_served(
    database_settings: dict[str, Any], tmp_path: Path
) -> None:
    with running_server(tmp_path, server_env(database_settings)) as server:
        with connect(server) as sock:
            sock.sendall(HEAD + b"X-Padding: " + b"a" * 17_000 + b"\r\n\r\n")
            too_large = read_answer(sock)
        with connect(server) as sock:
            sock.sendall(HEAD + b"X-Padding: " + b"a" * 15_000 + b"\r\nConnection: close\r\n\r\n")
            served = read_answer(sock)
        # Many small headers count together.
        with connect(server) as sock:
            sock.sendall(HEAD + b"".join(b"X-%d: %s\r\n" % (i, b"b" * 90) for i in range(200)))
            sock.sendall(b"\r\n")
            many = read_answer(sock)

    assert status_of(too_large) == 431
    assert b'"error": "request_header_fields_too_large"' in too_large
    assert status_of(served) == 200
    assert status_of(many) == 431


def test_a_10_mb_header_is_refused_without_being_read(
    database_settings: dict[str, Any], tmp_path: Path
) -> None:
    sent = 0
    with running_server(tmp_path, server_env(database_settings)) as server:
        with connect(server) as sock:
            sock.sendall(HEAD + b"X-Huge: ")
            with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                while sent < 10 * 1024 * 1024:
                    sock.sendall(b"a" * 65536)
                    sent += 65536
            answer = read_answer(sock)
        healthy = httpx.get(f"{server.url}/healthz")

    # Refused once the server had read 16 KiB; what it could send before that stopped it is
    # what the kernel's socket buffers hold, a few MiB at most.
    assert sent < 10 * 1024 * 1024
    assert answer == b"" or status_of(answer) == 431
    assert healthy.status_code == 200


def test_connections_that_do_not_finish_a_head_in_time_are_disconnected(
    database_settings: dict[str, Any], tmp_path: Path
) -> None:
    env = server_env(database_settings, REQUEST_HEADER_TIMEOUT_S="1")
    with running_server(tmp_path, env) as server, sockets() as opened:
        silent = connect(server)
        opened.append(silent)
        # A whole request first: the deadline of the next one starts at its first byte.
        kept_alive = connect(server)
        opened.append(kept_alive)
        kept_alive.sendall(HEAD + b"\r\n")
        first = kept_alive.recv(65536)
        time.sleep(1.5)  # idle past the header deadline, within uvicorn's 5 s keep-alive
        kept_alive.sendall(HEAD)
        trickling = connect(server)
        opened.append(trickling)
        trickling.sendall(HEAD)

        started = time.monotonic()
        cut_after = None
        while time.monotonic() - started < 5:
            try:
                trickling.sendall(b"X-Slow: 1\r\n")  # one header line every 0.2 s
            except OSError:
                cut_after = time.monotonic() - started
                break
            time.sleep(0.2)
        time.sleep(0.5)
        silent_closed = closed_by_server(silent)
        kept_alive_closed = closed_by_server(kept_alive)
        healthy = httpx.get(f"{server.url}/healthz")

    assert status_of(first) == 200
    assert cut_after is not None
    assert cut_after < 3
    assert silent_closed
    assert kept_alive_closed
    assert healthy.status_code == 200


def test_half_open_connections_past_max_connections_make_room_and_healthz_answers(
    database_settings: dict[str, Any], tmp_path: Path
) -> None:
    env = server_env(database_settings, MAX_CONNECTIONS="20")
    with running_server(tmp_path, env) as server, sockets() as opened:
        before = open_fds(server)
        for _ in range(300):
            sock = connect(server)
            sock.sendall(b"GET /v1/sessions HTTP/1.1\r\n")  # and never the rest
            opened.append(sock)
        healthy = httpx.get(f"{server.url}/healthz")
        served = httpx.get(f"{server.url}/openapi.json")
        time.sleep(0.2)
        fds = open_fds(server)
        still_open = sum(not closed_by_server(sock) for sock in opened)

    assert healthy.status_code == 200
    assert served.status_code == 200
    assert fds <= before + 20
    assert still_open <= 20


def test_requests_past_max_connections_get_503_while_healthz_answers(
    database_settings: dict[str, Any], tmp_path: Path
) -> None:
    env = server_env(database_settings, MAX_CONNECTIONS="4", REQUEST_BODY_TIMEOUT_S="20")
    token = auth()["Authorization"].encode()
    busy_head = (
        b"POST /v1/sessions HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\n"
        b"Authorization: " + token + b"\r\nContent-Length: 100\r\n\r\n"
    )
    with running_server(tmp_path, env) as server:
        with sockets() as busy:
            for _ in range(4):  # each waits for a body that does not come
                sock = connect(server)
                sock.sendall(busy_head)
                busy.append(sock)
            time.sleep(0.5)
            with httpx.Client(base_url=server.url) as client:
                refused = client.get("/openapi.json")
                healthy = client.get("/healthz")
        time.sleep(0.5)
        after = httpx.get(f"{server.url}/openapi.json")

    assert refused.status_code == 503
    assert healthy.status_code == 200
    assert after.status_code == 200
