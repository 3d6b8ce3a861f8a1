"""A fault-injecting TCP proxy for the fault test and the fault bench: put it between the service
(or a worker) and PostgreSQL or an SMTP server, then make the far side go away in the ways it does.

- ``refuse()``: nothing listens any more (a new connection gets ECONNREFUSED) and the live
  connections are reset, as when the server is stopped; ``restore()`` listens again on the same port.
- ``drop()``: the live connections are reset (RST) wherever they are, mid-transaction included;
  new ones are taken as usual, as when a server restarts or a middlebox forgets its connections.
- ``stall()``: bytes stop flowing both ways (new connections are taken but get no answer) until
  ``restore()``, then everything held back is delivered, as during a long GC pause or a failover.

Threads, one pair per connection: the test's load is a few dozen connections. Counts what it did
(``cut``: connections reset by ``refuse``/``drop``; ``accepted``), for bounds in the assertions.
"""

from __future__ import annotations

import socket
import struct
import threading
from typing import Self

_LINGER_RESET = struct.pack("ii", 1, 0)  # SO_LINGER on, 0 s: close() sends RST, not FIN


def _reset(sock: socket.socket) -> None:
    """Reset the connection (RST). ``shutdown(SHUT_RD)`` first: it wakes a thread blocked in
    ``recv()`` on it (a bare ``close()`` would not, and the connection would live on)."""
    for step in (lambda: sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, _LINGER_RESET),
                 lambda: sock.shutdown(socket.SHUT_RD), sock.close):
        try:
            step()
        except OSError:
            pass


class FaultProxy:
    def __init__(self, target: tuple[str, int], *, host: str = "127.0.0.1", port: int = 0) -> None:
        self.target = target
        self.host = host
        self.port = port
        self.accepted = 0
        self.cut = 0
        self._lock = threading.Lock()
        self._flowing = threading.Event()
        self._flowing.set()
        self._listener: socket.socket | None = None
        self._links: set[tuple[socket.socket, socket.socket]] = set()
        self._closed = False
        self._accepting: threading.Thread | None = None

    # --- life ------------------------------------------------------------------------------

    def __enter__(self) -> Self:
        self._listen()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._closed = True
        self._flowing.set()
        self._stop_listening()
        self._reset_all(count=False)

    @property
    def address(self) -> tuple[str, int]:
        return self.host, self.port

    # --- faults ----------------------------------------------------------------------------

    def refuse(self) -> int:
        """Stop listening and reset every live connection; returns how many were reset."""
        self._stop_listening()
        return self._reset_all()

    def drop(self) -> int:
        """Reset every live connection (listening goes on); returns how many were reset."""
        return self._reset_all()

    def stall(self) -> None:
        """Hold every byte, both ways, until ``restore()``."""
        self._flowing.clear()

    def restore(self) -> None:
        """Back to normal: listening, and bytes flowing."""
        if self._listener is None and not self._closed:
            self._listen()
        self._flowing.set()

    # --- the plumbing ----------------------------------------------------------------------

    def _listen(self) -> None:
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind((self.host, self.port))
        listener.listen(128)
        self.port = listener.getsockname()[1]
        self._listener = listener
        self._accepting = threading.Thread(target=self._accept, args=(listener,), name="fault-proxy-accept", daemon=True)
        self._accepting.start()

    def _stop_listening(self) -> None:
        listener, self._listener = self._listener, None
        if listener is not None:
            try:
                listener.shutdown(socket.SHUT_RDWR)  # wakes the thread blocked in accept()
            except OSError:
                pass
            listener.close()
            if self._accepting is not None:
                self._accepting.join(1)

    def _reset_all(self, *, count: bool = True) -> int:
        with self._lock:
            links, self._links = list(self._links), set()
        for client, upstream in links:
            _reset(client)
            _reset(upstream)
        if count:
            self.cut += len(links)
        return len(links)

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return  # the listener was closed: refuse() or close()
            self._flowing.wait()  # stalled: the connection is taken and waits, unanswered
            try:
                upstream = socket.create_connection(self.target, timeout=10)
                upstream.settimeout(None)
            except OSError:
                _reset(client)
                continue
            for sock in (client, upstream):
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            link = (client, upstream)
            with self._lock:
                self._links.add(link)
                self.accepted += 1
            for source, sink in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(link, source, sink), name="fault-proxy-pump", daemon=True).start()

    def _pump(self, link: tuple[socket.socket, socket.socket], source: socket.socket, sink: socket.socket) -> None:
        try:
            while True:
                data = source.recv(65536)
                if not data:
                    break
                self._flowing.wait()
                sink.sendall(data)
        except OSError:
            pass
        finally:
            with self._lock:
                known = link in self._links
                self._links.discard(link)
            if known:  # an orderly end from one side: pass it on to the other
                for sock in link:
                    try:
                        sock.shutdown(socket.SHUT_RDWR)
                    except OSError:
                        pass
                    sock.close()
