"""Payload reads of the RedisStore on sockets of its own (the Python side of ``src/store/redis/bulk-connection.ts``).

redis-py with hiredis reads a reply in 64 KiB pieces, feeds each into hiredis's buffer and builds a ``bytes`` of
the whole value, and the store then joined the chunks into one more: four copies of every payload byte, which
made the consumer the slow side at 10 MB. Here the kernel writes each chunk's value straight into the one
buffer the object is returned in (``recv_into``), so a payload is copied once on its way in.
"""

from __future__ import annotations

import os
import select
import socket
import threading
from dataclasses import dataclass
from typing import Callable

import numpy as np
import redis
from redis._parsers import BaseParser

from ...redis_client import pack_command
from ..types import Buffer


_SCRATCH_BYTES = 64 * 1024
_MAX_LINE = 1024
_IDLE_SOCKETS = 8
"""At most this many idle sockets are kept for reuse (one per thread that reads at the same time)."""


@dataclass(frozen=True)
class BulkTarget:
    """Where the payload sockets connect, taken from a plain (not TLS) redis-py connection pool."""

    host: str
    port: int
    path: str | None
    username: str | None
    password: str | None
    db: int
    connect_timeout: float | None
    socket_timeout: float | None


def bulk_target(client: redis.Redis, connect_timeout: float) -> BulkTarget | None:
    """The bulk target of ``client``, or None when payload bytes must stay on redis-py: TLS, or a
    connection class or credential provider this module does not know how to reproduce."""
    pool = client.connection_pool
    kwargs = pool.connection_kwargs
    if pool.connection_class not in (redis.connection.Connection, redis.connection.UnixDomainSocketConnection):
        return None
    if kwargs.get("credential_provider") is not None:
        return None
    return BulkTarget(
        host=str(kwargs.get("host", "127.0.0.1")),
        port=int(kwargs.get("port", 6379)),
        path=kwargs.get("path") if pool.connection_class is redis.connection.UnixDomainSocketConnection else None,
        username=kwargs.get("username") or None,
        password=kwargs.get("password") or None,
        db=int(kwargs.get("db") or 0),
        connect_timeout=kwargs.get("socket_connect_timeout") or connect_timeout,
        socket_timeout=kwargs.get("socket_timeout"),
    )


def new_buffer(size: int) -> memoryview:
    """A writable buffer of ``size`` bytes, left uninitialised: a bytearray would first zero every byte that a
    read is about to overwrite (about 1 ms per 10 MB here)."""
    return np.empty(size, dtype=np.uint8).data


class BulkSocket:
    """One connection that reads RESP replies, bulk values straight into the caller's buffer."""

    def __init__(self, target: BulkTarget) -> None:
        if target.path is not None:
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            sock.settimeout(target.connect_timeout)
            try:
                sock.connect(target.path)
            except BaseException:
                sock.close()
                raise
        else:
            sock = socket.create_connection((target.host, target.port), timeout=target.connect_timeout)
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self._sock = sock
        self._scratch = bytearray(_SCRATCH_BYTES)
        self._view = memoryview(self._scratch)
        self._start = 0
        self._end = 0
        try:
            self._handshake(target)
        except BaseException:
            self.close()
            raise
        sock.settimeout(target.socket_timeout)

    def _handshake(self, target: BulkTarget) -> None:
        if target.password is not None:
            auth = ("AUTH", target.username, target.password) if target.username is not None else ("AUTH", target.password)
            self.send(pack_command(*auth))
            try:
                self.simple()
            except redis.exceptions.ResponseError as cause:
                raise redis.exceptions.AuthenticationError(str(cause)) from cause
        if target.db != 0:
            self.send(pack_command("SELECT", str(target.db)))
            try:
                self.simple()
            except redis.exceptions.ResponseError as cause:
                raise redis.exceptions.ConnectionError(f"Invalid Database: {cause}") from cause

    def send(self, data: bytes) -> None:
        self._sock.sendall(data)

    def simple(self) -> bytes:
        """A status reply's text; raises ResponseError for an error reply."""
        line = self._line()
        if line[:1] == b"+":
            return line[1:]
        raise self._unexpected(line)

    def bulk(self, into: memoryview | None = None) -> Buffer | None:
        """The next bulk reply: None for nil; the value lands in ``into`` when its length matches, else in a
        buffer of its own."""
        line = self._line()
        if line[:1] != b"$":
            raise self._unexpected(line)
        length = _length(line)
        if length < 0:
            return None
        target = into if into is not None and len(into) == length else new_buffer(length)
        self._fill(target)
        self._crlf()
        return target

    def array(self) -> list[Buffer | None]:
        """The next array reply of bulk strings (HMGET)."""
        line = self._line()
        if line[:1] != b"*":
            raise self._unexpected(line)
        return [self.bulk() for _ in range(_length(line))]

    def close(self) -> None:
        self._sock.close()

    def idle_and_open(self) -> bool:
        """True when nothing is waiting to be read and the server has not closed the connection (as after a
        restart, an idle timeout or CLIENT KILL): checked before an idle socket is reused."""
        if self._start != self._end:
            return False
        if hasattr(select, "poll"):
            poller = select.poll()
            poller.register(self._sock, select.POLLIN)
            return not poller.poll(0)
        readable, _, _ = select.select([self._sock], [], [], 0)
        return not readable

    def _unexpected(self, line: bytes) -> Exception:
        if line[:1] == b"-":
            # Typed as redis-py types error replies (LOADING, NOAUTH, max clients: connection errors).
            error: Exception = BaseParser.parse_error(line[1:].decode("utf-8", "replace"))  # type: ignore[no-untyped-call]
            return error
        return redis.exceptions.ConnectionError(f"unexpected reply {line[:40]!r} on the payload connection")

    def _more(self) -> None:
        if self._start == self._end:
            self._start = self._end = 0
        elif self._end == len(self._scratch):
            held = self._end - self._start
            self._scratch[:held] = self._scratch[self._start : self._end]
            self._start, self._end = 0, held
        got = self._sock.recv_into(self._view[self._end :])
        if got == 0:
            raise redis.exceptions.ConnectionError("the server closed the payload connection")
        self._end += got

    def _line(self) -> bytes:
        while True:
            found = self._scratch.find(b"\r\n", self._start, self._end)
            if found >= 0:
                line = bytes(self._scratch[self._start : found])
                self._start = found + 2
                return line
            if self._end - self._start > _MAX_LINE:
                raise redis.exceptions.ConnectionError("a reply line on the payload connection is too long")
            self._more()

    def _fill(self, target: memoryview) -> None:
        held = min(len(target), self._end - self._start)
        target[:held] = self._view[self._start : self._start + held]
        self._start += held
        filled = held
        while filled < len(target):
            got = self._sock.recv_into(target[filled:])
            if got == 0:
                raise redis.exceptions.ConnectionError("the server closed the payload connection")
            filled += got

    def _crlf(self) -> None:
        while self._end - self._start < 2:
            self._more()
        if self._scratch[self._start : self._start + 2] != b"\r\n":
            raise redis.exceptions.ConnectionError("a bulk reply on the payload connection is not terminated")
        self._start += 2


class BulkSockets:
    """Idle :class:`BulkSocket` s for reuse across calls and threads. A socket goes back only after a call that
    read every reply it asked for; a call that failed closes its socket. Sockets made before a fork are
    dropped in the child, never used from two processes."""

    def __init__(self, target: BulkTarget) -> None:
        self._target = target
        self._lock = threading.Lock()
        self._idle: list[BulkSocket] = []
        self._pid = os.getpid()
        self._closed = False

    def run(self, operation: Callable[[BulkSocket], object]) -> object:
        """Runs ``operation`` on an idle socket (or a new one). Socket errors become redis-py's
        ConnectionError and TimeoutError, as on the client."""
        sock = self._take()
        try:
            result = operation(sock)
        except BaseException as error:
            sock.close()
            if isinstance(error, socket.timeout):
                raise redis.exceptions.TimeoutError(f"payload connection: {error}") from error
            if isinstance(error, OSError):
                raise redis.exceptions.ConnectionError(f"payload connection: {error}") from error
            raise
        self._give(sock)
        return result

    def close(self) -> None:
        self._after_fork()
        with self._lock:
            self._closed = True
            idle, self._idle = self._idle, []
        for sock in idle:
            sock.close()

    def _take(self) -> BulkSocket:
        self._after_fork()
        while True:
            with self._lock:
                if self._closed or not self._idle:
                    break
                sock = self._idle.pop()
            if sock.idle_and_open():
                return sock
            sock.close()
        try:
            return BulkSocket(self._target)
        except socket.timeout as cause:
            raise redis.exceptions.TimeoutError(f"payload connection: {cause}") from cause
        except OSError as cause:
            raise redis.exceptions.ConnectionError(f"payload connection: {cause}") from cause

    def _after_fork(self) -> None:
        """In a forked child: forgets the parent's sockets, and its lock, which another thread may have held."""
        if self._pid != os.getpid():
            self._lock = threading.Lock()
            self._idle = []
            self._pid = os.getpid()

    def _give(self, sock: BulkSocket) -> None:
        self._after_fork()
        with self._lock:
            if not self._closed and len(self._idle) < _IDLE_SOCKETS:
                self._idle.append(sock)
                return
        sock.close()


def _length(line: bytes) -> int:
    try:
        return int(line[1:])
    except ValueError:
        raise redis.exceptions.ConnectionError(f"unexpected reply {line[:40]!r} on the payload connection") from None
