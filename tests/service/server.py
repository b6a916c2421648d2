"""A real OpenAI-compatible chat-completions server on 127.0.0.1 for tests and bench/annotate.py.

Standard library only (``http.server`` in a thread). It answers ``POST /v1/chat/completions``
and ``GET /v1/models``, counts requests per document and the most requests in flight at once,
and misbehaves on purpose when the document text carries a marker:

=============  ====================================================================
``FAIL500``    always HTTP 500 (until :attr:`OpenAIServer.healed` is set)
``FLAKY429``   the first request for the document: 429 with ``Retry-After: 0``
``FLAKY500``   the first request: 503
``GARBAGE``    the first request: 200 with a body that is not JSON
``SLOW``       every answer after :attr:`OpenAIServer.slow_s` seconds
``CHATTER``    answers ``Sure! Here is my rating. Educational score: **4**/5 ...``
``NONSENSE``   answers ``I cannot rate this text.`` (no score)
=============  ====================================================================

Documents are told apart by a ``doc-<n>`` token in their text; otherwise the answer is
``Score: <n mod 6>``. With ``api_key`` set, requests without ``Authorization: Bearer <key>``
get 401.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

DOC = re.compile(r"doc-(\d+)")


def expected_score(n: int) -> float:
    return float(n % 6)


class OpenAIServer:
    """Start with ``with OpenAIServer() as srv: srv.base_url ...``."""

    def __init__(self, api_key: str | None = None, slow_s: float = 0.3, delay_s: float = 0.0) -> None:
        self.api_key = api_key
        self.slow_s = slow_s
        self.delay_s = delay_s
        """Seconds every answer takes (bench: a stand-in for model latency)."""
        self.healed = False
        self.lock = threading.Lock()
        self.calls: Counter[str] = Counter()
        """Chat requests per document (``doc-<n>``, or ``?`` without one)."""
        self.auth_failures = 0
        self.in_flight = 0
        self.max_in_flight = 0
        self._httpd: ThreadingHTTPServer | None = None

    @property
    def total_calls(self) -> int:
        with self.lock:
            return sum(self.calls.values())

    def reset_counts(self) -> None:
        with self.lock:
            self.calls.clear()
            self.max_in_flight = 0

    @property
    def base_url(self) -> str:
        assert self._httpd is not None
        return f"http://127.0.0.1:{self._httpd.server_address[1]}/v1"

    def __enter__(self) -> OpenAIServer:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args) -> None:  # quiet
                pass

            def _send(self, status: int, body: bytes, headers: dict[str, str] | None = None) -> None:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(body)

            def _authorised(self) -> bool:
                if server.api_key is None:
                    return True
                if self.headers.get("Authorization") == f"Bearer {server.api_key}":
                    return True
                with server.lock:
                    server.auth_failures += 1
                self._send(401, b'{"error": "bad key"}')
                return False

            def do_GET(self) -> None:
                if not self._authorised():
                    return
                if self.path.rstrip("/") == "/v1/models":
                    self._send(200, json.dumps({"data": [{"id": "test-model"}]}).encode())
                else:
                    self._send(404, b'{"error": "not found"}')

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", 0))
                body = self.rfile.read(length)
                if not self._authorised():
                    return
                if self.path.rstrip("/") != "/v1/chat/completions":
                    self._send(404, b'{"error": "not found"}')
                    return
                with server.lock:
                    server.in_flight += 1
                    server.max_in_flight = max(server.max_in_flight, server.in_flight)
                try:
                    self._chat(body)
                finally:
                    with server.lock:
                        server.in_flight -= 1

            def _chat(self, body: bytes) -> None:
                req = json.loads(body)
                prompt = req["messages"][-1]["content"]
                m = DOC.search(prompt)
                doc = m.group(0) if m else "?"
                with server.lock:
                    server.calls[doc] += 1
                    nth = server.calls[doc]
                if server.delay_s:
                    time.sleep(server.delay_s)
                if "SLOW" in prompt:
                    time.sleep(server.slow_s)
                if "FAIL500" in prompt and not server.healed:
                    self._send(500, b'{"error": "internal"}')
                    return
                if "FLAKY429" in prompt and nth == 1:
                    self._send(429, b'{"error": "rate limited"}', {"Retry-After": "0"})
                    return
                if "FLAKY500" in prompt and nth == 1:
                    self._send(503, b'{"error": "unavailable"}')
                    return
                if "GARBAGE" in prompt and nth == 1:
                    self._send(200, b"<html>oops, not json")
                    return
                if "CHATTER" in prompt:
                    answer = (
                        "Sure! Here is my rating.\nEducational score: **4**/5 because it explains things."
                    )
                elif "NONSENSE" in prompt:
                    answer = "I cannot rate this text."
                else:
                    n = int(m.group(1)) if m else 0
                    answer = f"Score: {int(expected_score(n))}"
                resp = {
                    "id": "chatcmpl-test",
                    "object": "chat.completion",
                    "model": req.get("model"),
                    "choices": [
                        {
                            "index": 0,
                            "message": {"role": "assistant", "content": answer},
                            "finish_reason": "stop",
                        }
                    ],
                }
                self._send(200, json.dumps(resp).encode())

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        threading.Thread(target=self._httpd.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc) -> None:
        assert self._httpd is not None
        self._httpd.shutdown()
        self._httpd.server_close()
