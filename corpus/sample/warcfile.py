"""A deterministic WARC writer: the same calls give the same bytes.

warcio stamps records with the current time and random UUIDs; here record ids derive from
(seed, record number) and dates from a fixed start, so a sample built twice is identical and
tests can compare ids across runs.
"""

from __future__ import annotations

import base64
import hashlib
import uuid
from datetime import datetime, timedelta, timezone
from io import BytesIO
from typing import BinaryIO
from urllib.parse import urlsplit

from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

START = datetime(2024, 3, 1, tzinfo=timezone.utc)


class DeterministicWarc:
    """Append request/response/revisit/resource records with ids and dates from ``seed``."""

    def __init__(self, out: BinaryIO, seed: int = 0, gzip: bool = True) -> None:
        self.writer = WARCWriter(out, gzip=gzip, warc_version="1.1")
        self.seed = seed
        self.count = 0

    def _headers(self, extra: dict[str, str] | None = None) -> dict[str, str]:
        digest = hashlib.blake2b(f"{self.seed}:{self.count}".encode(), digest_size=16).digest()
        when = START + timedelta(seconds=37 * self.count)
        self.count += 1
        return {
            "WARC-Record-ID": f"<urn:uuid:{uuid.UUID(bytes=digest)}>",
            "WARC-Date": when.strftime("%Y-%m-%dT%H:%M:%SZ"),
            **(extra or {}),
        }

    def warcinfo(self, filename: str, fields: dict[str, str]) -> None:
        body = "".join(f"{k}: {v}\r\n" for k, v in fields.items()).encode()
        headers = {**self._headers(), "WARC-Filename": filename}
        record = self.writer.create_warc_record(
            "",
            "warcinfo",
            payload=BytesIO(body),
            length=len(body),
            warc_content_type="application/warc-fields",
            warc_headers_dict=headers,
        )
        self.writer.write_record(record)

    def response(
        self,
        url: str,
        body: bytes,
        content_type: str = "text/html; charset=utf-8",
        status: str = "200 OK",
        headers: list[tuple[str, str]] | None = None,
        warc_headers: dict[str, str] | None = None,
    ) -> None:
        """An HTTP response; ``body`` is stored as given (already encoded/compressed)."""
        http = [("Content-Type", content_type)] if content_type else []
        http += [*(headers or []), ("Content-Length", str(len(body)))]
        record = self.writer.create_warc_record(
            url,
            "response",
            payload=BytesIO(body),
            length=len(body),
            http_headers=StatusAndHeaders(status, http, protocol="HTTP/1.1"),
            warc_headers_dict=self._headers(warc_headers),
        )
        self.writer.write_record(record)

    def request(self, url: str) -> None:
        parts = urlsplit(url)
        target = parts.path or "/"
        target += f"?{parts.query}" if parts.query else ""
        http = StatusAndHeaders(
            f"GET {target} HTTP/1.1", [("Host", parts.netloc), ("User-Agent", "corpus-sample/1.0")]
        )
        record = self.writer.create_warc_record(
            url, "request", http_headers=http, warc_headers_dict=self._headers()
        )
        self.writer.write_record(record)

    def revisit(self, url: str, refers_to_url: str, digest: str) -> None:
        """A revisit of an earlier capture (identical payload digest, no body)."""
        http = StatusAndHeaders("200 OK", [("Content-Type", "text/html; charset=utf-8")], protocol="HTTP/1.1")
        record = self.writer.create_revisit_record(
            url,
            digest=digest,
            refers_to_uri=refers_to_url,
            refers_to_date=START.strftime("%Y-%m-%dT%H:%M:%SZ"),
            http_headers=http,
            warc_headers_dict=self._headers(),
        )
        self.writer.write_record(record)


def payload_digest(body: bytes) -> str:
    """The ``WARC-Payload-Digest`` value warcio writes for ``body`` (sha1, base32)."""
    return "sha1:" + base64.b32encode(hashlib.sha1(body).digest()).decode()
