"""A real HTTPS server on 127.0.0.1 for tests of code that calls Azure or Kubernetes APIs.

The client libraries (azure-identity, azure-core, kubernetes) run unpatched against it; only the
answers are ours. Certificates come from ``trustme``: the CA is written to a file the clients
trust (``ca_path``), the server certificate is issued for 127.0.0.1 and localhost.

Usage::

    with HttpsServer() as server:
        server.route("GET", r"/subscriptions/(?P<sub>[^/]+)/providers/.*/usages", handler)
        ... server.url ...  # https://127.0.0.1:PORT

A handler takes a ``Request`` and returns ``Reply(status, body, headers)``; ``body`` may be a
dict/list (sent as JSON), str or bytes. ``server.requests`` records every request seen.
"""

from __future__ import annotations

import json
import re
import ssl
import tempfile
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import trustme


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes
    match: dict[str, str] = field(default_factory=dict)

    def json(self) -> Any:
        return json.loads(self.body or b"null")

    def form(self) -> dict[str, str]:
        return {k: v[0] for k, v in parse_qs(self.body.decode()).items()}


@dataclass
class Reply:
    status: int = 200
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0  # seconds to wait before answering (timeouts)


Handler = Callable[[Request], Reply]


class HttpsServer:
    def __init__(self) -> None:
        self.ca = trustme.CA()
        self._tmp = tempfile.TemporaryDirectory(prefix="rayfleet-tls-")
        self.ca_path = str(Path(self._tmp.name) / "ca.pem")
        self.ca.cert_pem.write_to_path(self.ca_path)
        self.routes: list[tuple[str, re.Pattern[str], Handler]] = []
        self.requests: list[Request] = []
        self._stop = threading.Event()
        cert = self.ca.issue_cert("127.0.0.1", "localhost")
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        cert.configure_cert(context)
        outer = self

        class _Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:  # keep test output clean
                pass

            def _serve(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                parts = urlsplit(self.path)
                request = Request(self.command, parts.path, parse_qs(parts.query),
                                  {k.lower(): v for k, v in self.headers.items()}, body)
                outer.requests.append(request)
                reply = outer._dispatch(request)
                if reply.delay:
                    outer._stop.wait(reply.delay)
                payload = reply.body
                content_type = reply.headers.get("Content-Type", "application/json")
                if isinstance(payload, dict | list):
                    data = json.dumps(payload).encode()
                elif isinstance(payload, str):
                    data = payload.encode()
                elif payload is None:
                    data = b""
                else:
                    data = payload
                try:
                    self.send_response(reply.status)
                    headers = {"Content-Type": content_type, **reply.headers}
                    for key, value in headers.items():
                        self.send_header(key, value)
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError, ssl.SSLError):
                    pass

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _serve

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self.httpd.daemon_threads = True
        self.httpd.socket = context.wrap_socket(self.httpd.socket, server_side=True)
        self.port = self.httpd.server_address[1]
        self.url = f"https://127.0.0.1:{self.port}"
        self.host = f"127.0.0.1:{self.port}"
        # A short poll interval: shutdown() waits for it, once per test server.
        self._thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05},
                                        daemon=True)

    def route(self, method: str, pattern: str, handler: Handler) -> None:
        """Answer ``method`` requests whose path fully matches ``pattern`` (later routes win)."""
        self.routes.insert(0, (method.upper(), re.compile(pattern), handler))

    def _dispatch(self, request: Request) -> Reply:
        for method, pattern, handler in self.routes:
            match = pattern.fullmatch(request.path)
            if method == request.method and match:
                request.match = match.groupdict()
                try:
                    return handler(request)
                except Exception as exc:  # a broken fake must fail the test loudly, not hang it
                    return Reply(599, {"error": {"code": "FakeServerBug", "message": repr(exc)}})
        return Reply(404, {"error": {"code": "NotFound", "message": f"no route for {request.method} {request.path}"}})

    def __enter__(self) -> HttpsServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self.httpd.shutdown()
        self.httpd.server_close()
        self._tmp.cleanup()
