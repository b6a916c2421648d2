"""One WARC/ARC file -> rows: one per record read, plus one per file-level problem.

Nothing is dropped silently: a record that is not an HTML page becomes a row with a
``warc:*`` reason, and a file that cannot be read to its end yields the records before the
damage and then one row naming the file and the error. Rows are plain dicts with the
columns of :data:`SCHEMA`; the Spark stage turns them into Arrow batches.

Files may be plain, gzip (per record, or one member for the whole file) or LZ4-frame
compressed, told apart by magic bytes, not by name; a file must start with a WARC record or an
ARC ``filedesc://`` header (warcio alone would parse any text with spaces as ARC records).
ARC files are read through warcio's ``arc2warc`` conversion.
"""

from __future__ import annotations

import gzip
import hashlib
import math
import uuid
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import IO, Any

import fsspec
import lz4.frame
import pyarrow as pa
from warcio.archiveiterator import ArchiveIterator
from warcio.exceptions import ArchiveLoadFailed

from corpus.stages.base import REASON
from corpus.warc.decode import DecodeError, TooLarge, decode_text, decompress, looks_like_html

SCHEMA = pa.schema(
    [
        ("id", pa.string()),
        ("text", pa.string()),
        ("source", pa.string()),
        ("url", pa.string()),
        ("warc_date", pa.string()),
        ("warc_record_id", pa.string()),
        ("warc_type", pa.string()),
        ("content_type", pa.string()),
        ("http_status", pa.int32()),
        ("charset", pa.string()),
        ("warc_path", pa.string()),
        ("warc_offset", pa.int64()),
        ("warc_error", pa.string()),
        (REASON, pa.string()),
    ]
)
"""Columns of every row (``warc_error`` says what went wrong for file-level and decode rows)."""

HTML_TYPES = frozenset({"text/html", "application/xhtml+xml"})
_GZIP_MAGIC = b"\x1f\x8b"
_LZ4_MAGIC = b"\x04\x22\x4d\x18"
_ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"
_DRAIN = 1 << 16
MAX_ERROR_CHARS = 500


@dataclass(frozen=True)
class ReadOptions:
    """What the reader keeps: see the ``warc`` stage's ``Params`` for the meaning."""

    source: str = "web"
    max_record_bytes: int = 50 << 20
    http_ok_only: bool = True


def record_id(source: str, key: str, offset: int, ordinal: int, url: str | None, what: str = "") -> str:
    """Stable id: hash of (source, file key, offset and number of the record in the file, url
    [, file-level reason])."""
    raw = "\x1f".join((source, key, str(offset), str(ordinal), url or "", what))
    return hashlib.blake2b(raw.encode("utf-8", "surrogatepass"), digest_size=16).hexdigest()


def _head(fh: IO[bytes], magic: bytes) -> bytes | None:
    """The first bytes of the archive after decompression (``fh`` is rewound); ``None`` when
    the file is compressed and holds no bytes at all (e.g. ``gzip`` of an empty file), which is
    the same fault as a 0-byte file."""
    head: bytes | None
    if magic.startswith(_GZIP_MAGIC):
        data = fh.read(1 << 16)
        try:
            while data:  # members that end cleanly without a byte are skipped
                z = zlib.decompressobj(16 + zlib.MAX_WBITS)
                head = z.decompress(data, 256)
                if head or not z.eof:
                    break
                data = z.unused_data
            else:
                head = None
        except zlib.error:
            head = b""
    elif magic == _LZ4_MAGIC:
        try:
            head = lz4.frame.LZ4FrameFile(fh, "rb").read(256) or None
        except (EOFError, RuntimeError):
            head = b""
    else:
        head = fh.read(256)
    fh.seek(0)
    return head


def _member_cut(it: ArchiveIterator) -> bool:
    """After a record is read to its end: did its gzip member stop before the gzip trailer?"""
    decompressor = it.reader.decompressor if it.reader else None
    return decompressor is not None and hasattr(decompressor, "eof") and not decompressor.eof


class _Iterator(ArchiveIterator):
    """warcio's iterator, noting whether the last gzip member ended cleanly: warcio stops
    silently when a file is cut inside a member header, which is still a damaged file."""

    cut_member = False
    INC_RECORD = ""  # warcio prints a warning per record with a wrong Content-Length; the row stands

    def close(self) -> None:
        self.cut_member = _member_cut(self)
        super().close()


class _WholeFileGzip(Exception):
    """The file is one gzip member holding many records (not per-record gzip)."""


class _Watched:
    """A read-only stream that remembers a read error (warcio swallows ``EOFError`` while
    parsing headers, which is how a truncated LZ4 frame reports itself)."""

    def __init__(self, stream: IO[bytes]) -> None:
        self.stream = stream
        self.error: BaseException | None = None

    def read(self, size: int = -1) -> bytes:
        try:
            return self.stream.read(size)
        except (EOFError, OSError) as err:
            self.error = err
            raise

    def tell(self) -> int:
        return self.stream.tell()


def _mime(value: str | None) -> str | None:
    return value.split(";", 1)[0].strip().lower() or None if value else None


def _url(value: str | None) -> str | None:
    return value.strip().strip("<>") if value else value


def _read_body(stream: Any, limit: int) -> tuple[bytes, bool]:
    """The record block up to ``limit`` bytes, and whether the file ended inside it."""
    body = stream.read(limit)
    return body, getattr(stream, "limit", 0) > 0


def _drain(stream: Any) -> bool:
    """Skip the rest of a record without holding it; True when the file ended inside it."""
    while stream.read(_DRAIN):
        pass
    return getattr(stream, "limit", 0) > 0


class FileReader:
    """Iterate the rows of one file; see the module docstring."""

    def __init__(self, path: str, key: str, opts: ReadOptions, part: int = 0, parts: int = 1) -> None:
        self.path, self.key, self.opts = path, key, opts
        self.part, self.parts = part, parts
        self.ordinal = 0
        """Number of the record being read (ids use it: damaged files can repeat offsets)."""
        self.lo, self.hi = 0, math.inf
        """Byte range of the record starts this part yields (the whole file for one part)."""
        self.arc = False

    def _mine(self, offset: int) -> bool:
        """Does the row of a record or file problem at ``offset`` belong to this part?"""
        return self.lo <= max(offset, 0) < self.hi

    def _whole_file_to_part_zero(self) -> bool:
        """Offsets of LZ4 and single-member gzip files count decompressed bytes, which the
        byte ranges cannot cut: part 0 reads all of such a file (True), the others nothing."""
        self.lo, self.hi = 0, math.inf
        return self.part == 0

    def _row(self, reason: str | None, offset: int, **cols: Any) -> dict[str, Any]:
        row = dict.fromkeys(SCHEMA.names)
        row.update(cols, source=self.opts.source, warc_path=self.key, warc_offset=offset)
        what = reason if cols.get("warc_type") is None else ""
        row["id"] = record_id(self.opts.source, self.key, offset, self.ordinal, cols.get("url"), what)
        row[REASON] = reason
        return row

    def _file_row(self, reason: str, offset: int, error: BaseException | str | None = None) -> dict[str, Any]:
        message = f"{type(error).__name__}: {error}" if isinstance(error, BaseException) else error
        return self._row(reason, offset, warc_error=message[:MAX_ERROR_CHARS] if message else None)

    def __iter__(self) -> Iterator[dict[str, Any]]:
        try:
            fh = fsspec.open(self.path, "rb").open()
        except Exception as err:  # noqa: BLE001 - any open failure is a row, not a crash
            if self.part == 0:
                yield self._file_row("warc:unreadable_file", -1, err)
            return
        with fh:
            if self.parts > 1 and not self._set_range(fh):
                return
            yield from (row for row in self._read(fh) if self._mine(row["warc_offset"]))

    def _set_range(self, fh: IO[bytes]) -> bool:
        """This part's byte range from the file's size; a stream that cannot tell its size
        goes whole to part 0. False: nothing of the file is this part's."""
        try:
            size = fh.seek(0, 2)
            fh.seek(0)
        except Exception:  # noqa: BLE001 - not seekable: read whole, by part 0
            return self._whole_file_to_part_zero()
        self.lo = size * self.part // self.parts
        self.hi = size * (self.part + 1) // self.parts if self.part + 1 < self.parts else math.inf
        return True

    def _read(self, fh: IO[bytes]) -> Iterator[dict[str, Any]]:
        try:
            magic = fh.read(4)
            fh.seek(0)
            head = _head(fh, magic)
        except Exception as err:  # noqa: BLE001
            yield self._file_row("warc:unreadable_file", -1, err)
            return
        if not magic or head is None:
            yield self._file_row("warc:empty_file", 0, "no records")
            return
        if magic == _ZSTD_MAGIC:
            yield self._file_row("warc:unreadable_file", 0, "zstd-compressed archives are not supported")
            return
        arc = self.arc = head.lstrip().startswith(b"filedesc://")
        if not (arc or head.lstrip().startswith(b"WARC/")):
            yield self._file_row("warc:corrupt_file:NotAnArchive", 0, f"starts with {head[:40]!r}")
            return
        if magic == _LZ4_MAGIC:
            if self._whole_file_to_part_zero():
                yield from self._records(lz4.frame.LZ4FrameFile(fh, "rb"), arc)
            return
        try:
            yield from self._records(fh, arc, whole_gzip_retry=magic.startswith(_GZIP_MAGIC))
        except _WholeFileGzip:
            # ``gzip file.warc`` makes one member for all records, which warcio refuses after
            # the first record; read it as one stream instead (the first record, at offset 0
            # either way, was already emitted by part 0).
            if self._whole_file_to_part_zero():
                fh.seek(0)
                yield from self._records(gzip.GzipFile(fileobj=fh, mode="rb"), arc, skip=1)

    def _records(
        self, fh: IO[bytes], arc: bool, whole_gzip_retry: bool = False, skip: int = 0
    ) -> Iterator[dict[str, Any]]:
        watched = _Watched(fh)
        it = _Iterator(watched, arc2warc=arc)
        offset, records = 0, 0
        try:
            for record in it:
                offset = it.offset
                if offset >= self.hi:  # the next part's first record: what follows is not ours
                    return
                self.ordinal = records
                records += 1
                # Records before this part's range are skimmed (read, not decoded): their
                # number makes the ids, their damage ends the file for every part alike.
                row, cut = self._record(record, offset, skim=offset < self.lo)
                it.read_to_end()
                if cut or _member_cut(it):
                    yield self._file_row(
                        "warc:corrupt_file:TruncatedRecord",
                        offset,
                        f"record {row['warc_record_id']} at offset {offset} ends before its "
                        f"declared {record.length} bytes",
                    )
                    return
                if record.rec_type is None:
                    yield self._file_row(
                        "warc:corrupt_file:MalformedRecord", offset, "record without WARC-Type"
                    )
                    return
                if records > skip:
                    yield row
            offset = it.offset
            self.ordinal = records
        except ArchiveLoadFailed as err:
            if whole_gzip_retry and records == 1 and "non-chunked gzip" in str(err):
                raise _WholeFileGzip from err
            yield self._file_row(f"warc:corrupt_file:{type(err).__name__}", offset, err)
            return
        except Exception as err:  # noqa: BLE001 - damage ends the file, not the run
            yield self._file_row(f"warc:corrupt_file:{type(err).__name__}", offset, err)
            return
        if watched.error is not None:
            yield self._file_row(f"warc:corrupt_file:{type(watched.error).__name__}", offset, watched.error)
        elif it.cut_member:
            yield self._file_row("warc:corrupt_file:TruncatedGzip", offset, "file ends inside a gzip member")
        elif records == 0:
            yield self._file_row("warc:empty_file", 0, "no records")

    def _arc_record_id(self, offset: int) -> str:
        """ARC records have no record id and warcio's ``arc2warc`` makes up a random one per
        read: a UUID from the file key and the record's place instead, the same every read."""
        digest = hashlib.blake2b(f"{self.key}\x1f{offset}\x1f{self.ordinal}".encode(), digest_size=16)
        return f"<urn:uuid:{uuid.UUID(bytes=digest.digest())}>"

    def _record(self, record: Any, offset: int, skim: bool = False) -> tuple[dict[str, Any], bool]:
        """The row for one record, and whether the file ended inside it; ``skim``: the
        payload is read but not decoded (the row is not this part's)."""
        headers = record.rec_headers
        http = record.http_headers if record.rec_type in ("response", "revisit") else None
        status = _status(http)
        cols: dict[str, Any] = {
            "url": _url(headers.get_header("WARC-Target-URI")),
            "warc_date": headers.get_header("WARC-Date"),
            "warc_record_id": self._arc_record_id(offset)
            if self.arc
            else headers.get_header("WARC-Record-ID"),
            "warc_type": record.rec_type,
            "http_status": status,
            "content_type": _mime(headers.get_header("WARC-Identified-Payload-Type"))
            or _mime(http.get_header("Content-Type") if http else None),
        }
        stream = record.raw_stream
        if record.rec_type == "revisit":
            reason = "warc:revisit"
        elif record.rec_type != "response":
            reason = "warc:not_response"
        elif (record.length or 0) > self.opts.max_record_bytes:
            reason = "warc:too_large"
        elif self.opts.http_ok_only and status is not None and not 200 <= status < 300:
            reason = "warc:http_status"
        elif cols["content_type"] is not None and cols["content_type"] not in HTML_TYPES:
            reason = "warc:non_html"
        else:
            body, cut = _read_body(stream, self.opts.max_record_bytes)
            if cut or skim:
                return self._row(None, offset, **cols), cut
            return self._html_row(body, http, offset, cols), False
        return self._row(reason, offset, **cols), _drain(stream)

    def _html_row(self, body: bytes, http: Any, offset: int, cols: dict[str, Any]) -> dict[str, Any]:
        header_type = http.get_header("Content-Type") if http else None
        codings = [http.get_header("Content-Encoding"), http.get_header("Transfer-Encoding")] if http else []
        codings = [c for value in codings if value for c in value.split(",")]
        try:
            payload = decompress(body, codings, self.opts.max_record_bytes)
        except TooLarge as err:
            return self._row("warc:too_large", offset, warc_error=str(err), **cols)
        except DecodeError as err:
            return self._row("warc:decode_error", offset, warc_error=str(err)[:MAX_ERROR_CHARS], **cols)
        if not payload.strip():
            return self._row("warc:empty_payload", offset, **cols)
        if cols["content_type"] is None and not looks_like_html(payload):
            return self._row("warc:non_html", offset, **cols)
        try:
            text, charset = decode_text(payload, header_type)
        except DecodeError as err:
            return self._row("warc:decode_error", offset, warc_error=str(err), **cols)
        cols["content_type"] = cols["content_type"] or "text/html"
        return self._row(None, offset, text=text, charset=charset, **cols)


def _status(http: Any) -> int | None:
    try:
        return int(http.get_statuscode()) if http is not None else None
    except (TypeError, ValueError):
        return None


def read_file(
    path: str, key: str, opts: ReadOptions, part: int = 0, parts: int = 1
) -> Iterator[dict[str, Any]]:
    """Rows of one archive file (see the module docstring); never raises for bad input.

    ``part`` of ``parts``: only the records that start in that share of the file's bytes
    (file problems where they occur), with the same rows and ids as a whole-file read; the
    parts together give exactly the whole file's rows in order. Part ``k`` skims the bytes
    before its share (record numbers make the ids), so ``parts`` stays small."""
    return iter(FileReader(path, key, opts, part, parts))
