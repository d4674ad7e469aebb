"""A TCP forwarder the fault tests control: the app reaches PostgreSQL, Redis or localstripe
through it, and a test cuts the line, stalls it or restores it, without touching the real
server (which other test runs share).

    with FaultProxy("127.0.0.1", 5432) as proxy:
        url = proxy.url("postgresql://postgres@127.0.0.1:5432/db")  # the same URL, via the proxy
        proxy.cut()       # open connections are reset, new ones refused: a server restart
        proxy.stall()     # connections are accepted and bytes held: a server that hangs
        proxy.stall(after=b"/capture")  # ... once that request has reached the server
        proxy.restore()   # forwarding again (stalled connections are dropped first)

Each accepted connection is two threads copying bytes, one each way.
"""

from __future__ import annotations

import contextlib
import socket
import struct
import threading
from urllib.parse import urlsplit, urlunsplit

FORWARD = "forward"
CUT = "cut"
STALL = "stall"


def _reset(sock: socket.socket) -> None:
    """End the connection now, as a killed server would: SO_LINGER 0 (a reset, not an orderly
    close, for what is still unsent) and shutdown() first, which wakes a thread blocked in
    recv() on it; close() alone would leave the connection open until that recv returned,
    and the peer (a PostgreSQL backend mid-transaction, holding its locks) would never know."""
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
    with contextlib.suppress(OSError):
        sock.close()


class FaultProxy:
    def __init__(self, target_host: str, target_port: int, *, port: int = 0):
        self.target = (target_host, target_port)
        self._listener = socket.create_server(("127.0.0.1", port), backlog=128)
        self.port = self._listener.getsockname()[1]
        self._mode = FORWARD
        self._lock = threading.Lock()
        self._open: set[socket.socket] = set()
        self._held: list[socket.socket] = []  # accepted during a stall, never forwarded
        self._stalled: set[socket.socket] = set()  # open pairs that saw a stall
        self._stopped = threading.Event()
        self._stall_after: bytes | None = None
        self.accepted = 0
        self.refused = 0
        self._thread = threading.Thread(target=self._accept, name="faultproxy", daemon=True)
        self._thread.start()

    # -- control --------------------------------------------------------------------------

    def url(self, url: str) -> str:
        """`url` with its host and port replaced by the proxy's (user, path and query kept)."""
        parts = urlsplit(url)
        userinfo = parts.netloc.rpartition("@")[0]
        netloc = f"{userinfo}@" if userinfo else ""
        return urlunsplit(parts._replace(netloc=f"{netloc}127.0.0.1:{self.port}"))

    def cut(self) -> None:
        """Reset every open connection and refuse new ones until restore()."""
        with self._lock:
            self._mode = CUT
        self._drop_all()

    def stall(self, *, after: bytes | None = None) -> None:
        """Accept connections but pass nothing either way (open ones stop too). With `after`,
        keep forwarding until a request carrying those bytes (b"/capture", say): it reaches
        the server, and the line hangs from then on, its answer included (the server did
        the work; the client never hears of it)."""
        with self._lock:
            if after is None:
                self._mode = STALL
            else:
                self._stall_after = after

    def restore(self) -> None:
        """Forward again. Connections held by a stall are reset: what they carried is gone."""
        with self._lock:
            self._mode = FORWARD
            self._stall_after = None
            held, self._held = self._held, []
        for sock in held:
            _reset(sock)
        self._drop_stalled_pairs()

    @property
    def mode(self) -> str:
        return self._mode

    def close(self) -> None:
        self._stopped.set()
        _reset(self._listener)  # wakes the accept() of the listening thread
        self._drop_all()
        with self._lock:
            held, self._held = self._held, []
        for sock in held:
            _reset(sock)
        self._thread.join(5)

    def __enter__(self) -> FaultProxy:
        return self

    def __exit__(self, *_exc) -> None:
        self.close()

    # -- forwarding -----------------------------------------------------------------------

    def _drop_all(self) -> None:
        with self._lock:
            sockets, self._open = self._open, set()
        for sock in sockets:
            _reset(sock)

    def _drop_stalled_pairs(self) -> None:
        """Open pairs that saw the stall may hold half a message: end them, as a real hang
        that recovered would have timed them out."""
        with self._lock:
            stalled, self._stalled = self._stalled, set()
            self._open -= stalled
        for sock in stalled:
            _reset(sock)

    def _accept(self) -> None:
        while not self._stopped.is_set():
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            with self._lock:
                mode = self._mode
            if mode == CUT:
                self.refused += 1
                _reset(client)
                continue
            if mode == STALL:
                with self._lock:
                    self._held.append(client)
                continue
            self.accepted += 1
            threading.Thread(target=self._connect, args=(client,), daemon=True).start()

    def _connect(self, client: socket.socket) -> None:
        try:
            upstream = socket.create_connection(self.target, timeout=5)
            upstream.settimeout(None)
        except OSError:
            _reset(client)
            return
        for sock in (client, upstream):
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        with self._lock:
            if self._mode != FORWARD:
                _reset(client)
                _reset(upstream)
                return
            self._open.update((client, upstream))
        threading.Thread(target=self._pipe, args=(client, upstream), daemon=True).start()
        self._pipe(upstream, client)

    def _pipe(self, source: socket.socket, sink: socket.socket) -> None:
        try:
            while True:
                data = source.recv(65536)
                if not data:
                    break
                trigger = self._stall_after
                if trigger is not None and trigger in data:
                    with self._lock:
                        self._mode, self._stall_after = STALL, None
                    sink.sendall(data)  # this one request still reaches the server
                    continue
                while self._mode == STALL:  # hold the bytes until restore() or cut()
                    with self._lock:
                        self._stalled.update((source, sink))
                    if self._stopped.wait(0.05):
                        return
                if self._mode == CUT or source not in self._open:
                    break
                sink.sendall(data)
        except OSError:
            pass
        finally:
            with self._lock:
                self._open -= {source, sink}
                self._stalled -= {source, sink}
            _reset(source)
            _reset(sink)
