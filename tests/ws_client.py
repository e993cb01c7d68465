"""A small graphql-transport-ws (and legacy graphql-ws) client for tests."""

import asyncio
import base64
import json
import os
import socket
import struct
from typing import Any

import websockets
from websockets.asyncio.client import ClientConnection

TRANSPORT_WS = "graphql-transport-ws"
LEGACY_WS = "graphql-ws"


class GraphQLSocket:
    def __init__(self, connection: ClientConnection, protocol: str) -> None:
        self.connection = connection
        self.protocol = protocol

    @classmethod
    async def open(
        cls,
        url: str,
        *,
        token: str | None,
        protocol: str = TRANSPORT_WS,
        **options: Any,
    ) -> "GraphQLSocket":
        connection = await websockets.connect(
            url.replace("http://", "ws://") + "/graphql", subprotocols=[protocol], **options
        )
        client = cls(connection, protocol)
        payload = {} if token is None else {"Authorization": f"Bearer {token}"}
        await client.send({"type": "connection_init", "payload": payload})
        return client

    async def send(self, message: dict[str, Any]) -> None:
        await self.connection.send(json.dumps(message))

    async def receive(self, timeout: float = 5) -> dict[str, Any]:
        message: dict[str, Any] = json.loads(
            await asyncio.wait_for(self.connection.recv(), timeout)
        )
        return message

    async def acknowledged(self) -> None:
        message = await self.receive()
        assert message["type"] == "connection_ack", message

    async def subscribe(self, query: str, variables: dict[str, Any], op_id: str = "1") -> None:
        kind = "subscribe" if self.protocol == TRANSPORT_WS else "start"
        await self.send(
            {"id": op_id, "type": kind, "payload": {"query": query, "variables": variables}}
        )

    async def next_data(self, timeout: float = 5) -> dict[str, Any]:
        """The payload of the next result, skipping keep-alive pings."""
        while True:
            message = await self.receive(timeout)
            if message["type"] in ("ping", "ka"):
                continue
            assert message["type"] in ("next", "data"), message
            data: dict[str, Any] = message["payload"]["data"]
            return data

    async def close(self) -> None:
        await self.connection.close()


class StalledSubscriber:
    """A graphql-transport-ws subscriber that stops reading its socket entirely.

    Written on a bare socket with a small, fixed receive buffer, so nothing in a client
    library keeps reading behind the test's back; `drain` reads it all afterwards.
    """

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock

    @classmethod
    def connect(
        cls, url: str, token: str, query: str, variables: dict[str, Any], receive_buffer: int
    ) -> "StalledSubscriber":
        host, port = url.removeprefix("http://").split(":")
        sock = socket.socket()
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, receive_buffer)
        sock.connect((host, int(port)))
        key = base64.b64encode(os.urandom(16)).decode()
        sock.sendall(
            (
                f"GET /graphql HTTP/1.1\r\nHost: {host}:{port}\r\nUpgrade: websocket\r\n"
                f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
                f"Sec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: {TRANSPORT_WS}\r\n\r\n"
            ).encode()
        )
        response = b""
        while b"\r\n\r\n" not in response:
            response += sock.recv(1)
        assert b" 101 " in response.split(b"\r\n")[0], response
        subscriber = cls(sock)
        subscriber.send_text(
            {"type": "connection_init", "payload": {"Authorization": f"Bearer {token}"}}
        )
        subscriber.send_text(
            {"id": "1", "type": "subscribe", "payload": {"query": query, "variables": variables}}
        )
        return subscriber

    def send_text(self, message: dict[str, Any]) -> None:
        payload = json.dumps(message).encode()
        mask = os.urandom(4)
        header = bytearray([0x81])
        if len(payload) < 126:
            header.append(0x80 | len(payload))
        else:
            header.append(0x80 | 126)
            header += struct.pack("!H", len(payload))
        masked = bytes(byte ^ mask[index % 4] for index, byte in enumerate(payload))
        self.sock.sendall(bytes(header) + mask + masked)

    def drain(self, timeout: float) -> tuple[int, int | None, str]:
        """Read until the server closes: (text frames read, close code, close reason)."""
        self.sock.settimeout(timeout)
        buffer = b""
        frames = 0

        def take(count: int) -> bytes:
            nonlocal buffer
            while len(buffer) < count:
                chunk = self.sock.recv(1 << 20)
                if not chunk:
                    raise ConnectionError("closed without a close frame")
                buffer += chunk
            data, buffer = buffer[:count], buffer[count:]
            return data

        while True:
            first, second = take(2)
            length = second & 0x7F
            if length == 126:
                length = struct.unpack("!H", take(2))[0]
            elif length == 127:
                length = struct.unpack("!Q", take(8))[0]
            payload = take(length)
            opcode = first & 0x0F
            if opcode == 0x8:
                code = struct.unpack("!H", payload[:2])[0] if len(payload) >= 2 else None
                return frames, code, payload[2:].decode(errors="replace")
            if opcode == 0x1:
                frames += 1

    def close(self) -> None:
        self.sock.close()
