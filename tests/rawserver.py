"""A one-trick HTTP server on a real socket, for faults the fake providers cannot make:
hanging up after reading a request, resetting, cutting an answer short, redirecting."""

import socket
import threading


class RawServer:
    """A one-trick HTTP server on a real socket: reads each request whole, then does ``act``."""

    def __init__(self, act):
        self.act = act
        self.requests: list[bytes] = []
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.base = f"http://127.0.0.1:{self.sock.getsockname()[1]}"
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            with conn:
                data = b""
                while b"\r\n\r\n" not in data:
                    chunk = conn.recv(65536)
                    if not chunk:
                        break
                    data += chunk
                head, _, body = data.partition(b"\r\n\r\n")
                length = next((int(line.split(b":")[1]) for line in head.split(b"\r\n")
                               if line.lower().startswith(b"content-length:")), 0)
                while len(body) < length:
                    body += conn.recv(65536)
                self.requests.append(head + b"\r\n\r\n" + body)
                self.act(conn)

    def close(self):
        self.sock.close()


def answer(status: str, headers: dict, body: bytes = b""):
    """An ``act`` that sends one complete HTTP answer and closes."""
    def act(conn):
        head = "".join(f"{k}: {v}\r\n" for k, v in {**headers, "Content-Length": len(body),
                                                       "Connection": "close"}.items())
        conn.sendall(f"HTTP/1.1 {status}\r\n{head}\r\n".encode() + body)
    return act


def sse_head(conn, chunked: bool = False):
    """The head of a 200 event stream: close-delimited (no length, ends when the server closes), or chunked."""
    framing = "Transfer-Encoding: chunked\r\n" if chunked else "Connection: close\r\n"
    conn.sendall(f"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n{framing}\r\n".encode())


def sse_send(conn, raw: bytes, chunked: bool = False):
    conn.sendall(f"{len(raw):x}\r\n".encode() + raw + b"\r\n" if chunked else raw)


def sse_event(name: str | None, data) -> bytes:
    """One SSE event as the providers write it."""
    import json

    head = f"event: {name}\n" if name else ""
    return (head + f"data: {data if isinstance(data, str) else json.dumps(data)}\n\n").encode()


def keep_alive(every: float = 0.05, limit: float = 60.0, started=None):
    """An ``act``: an event stream that sends only keep-alive comments until the client hangs up."""
    import time

    def act(conn):
        sse_head(conn)
        end = time.monotonic() + limit
        try:
            while time.monotonic() < end:
                conn.sendall(b": keep-alive\n\n")
                if started is not None:
                    started.set()
                time.sleep(every)
        except OSError:
            pass
    return act


def silent(limit: float = 60.0, started=None):
    """An ``act``: an event stream's head, then nothing at all until the client hangs up."""
    def act(conn):
        sse_head(conn)
        if started is not None:
            started.set()
        conn.settimeout(limit)
        try:
            conn.recv(1)  # returns when the client closes
        except OSError:
            pass
    return act
