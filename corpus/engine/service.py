"""Model and service stages: what a stage that loads a model or calls a paid endpoint needs.

Four pieces, each small:

* :func:`worker_resource` — a model or HTTP client built once per Python worker process and
  reused by every batch and task that worker runs (Spark reuses Python workers by default,
  ``spark.python.worker.reuse``), keyed so that two stages with different models never share.
* :class:`KeyCache` — the stage's persistent cache under ``ctx.cache_dir``
  (``<output>/_cache/<stage>/``, outside every committed folder). One small JSON file per key,
  written to a unique temporary name and renamed into place. Why this layout: executor tasks
  (several at once, plus retried and speculative attempts of the same task) write concurrently
  without any lock, because each write is its own file and ``rename`` is atomic — a reader sees
  no file or a whole one, never a torn line; two attempts writing the same key write identical
  bytes, so the last rename wins harmlessly. A SIGKILL loses at most the answers still in
  flight (a leftover ``.tmp-*`` file is ignored). Only successes are written: a transient
  failure is never cached, so the next run asks again.
* :func:`post_json` — one JSON POST on a shared ``httpx.Client`` with a timeout and retries:
  exponential backoff with full jitter (``uniform(0, min(cap, base * 2**attempt))``, the AWS
  Architecture Blog's "Exponential Backoff And Jitter", 2015) on 429, 5xx, connection errors,
  timeouts and bodies that are not JSON; ``Retry-After`` (seconds or an HTTP date) is honoured
  up to the cap. After the last attempt it raises :class:`TransientError`, which a stage turns
  into a kept row with an error column (``StageOutput.retry_column``) — never a dead task.
  :func:`map_bounded` runs such calls with at most ``n`` in flight per task.
* :class:`Secret` — an API key read on the driver from the environment variable the YAML
  names (:func:`read_secret`) and handed to executors inside the task closure: it is never a
  parameter (so never in manifests or the config hash), its ``repr``/``str`` are redacted, and
  :meth:`Secret.redact` scrubs it from any exception text before that text is stored or shown.

How a stage uses it (``corpus/stages/annotate.py`` is the full example)::

    def run(ctx, params):
        secret = read_secret(params.api_key_env, f"stage {ctx.name!r}")   # driver, UserError
        probe(params.base_url, secret, 10.0, f"stage {ctx.name!r}")       # before any data
        cache_dir = ctx.cache_dir

        def task(batches):                       # the closure carries the secret, not params
            client = http_client(60.0, 4)        # once per Python worker
            cache = KeyCache(cache_dir)
            for batch in batches:
                def one(text):
                    key = cache_key("my-service", params.model, text)
                    if (hit := cache.get(key)) is not None:
                        return hit, None
                    try:
                        body, _ = post_json(client, url, {...}, headers, RetryPolicy(), secret)
                    except (TransientError, PermanentError) as e:
                        return None, str(e)      # kept with the error, not cached
                    cache.put(key, body)
                    return body, None
                results = map_bounded(one, batch.column("text").to_pylist(), 4)
                yield ...                        # the batch + result and error columns

        return StageOutput(rows=df.mapInArrow(task, schema), retry_column="my_error", ...)
"""

from __future__ import annotations

import email.utils
import hashlib
import json
import os
import random
import threading
import time
import uuid
from collections.abc import Callable, Hashable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

from corpus.errors import UserError

if TYPE_CHECKING:
    import httpx

T = TypeVar("T")
R = TypeVar("R")

_RESOURCES: dict[Hashable, Any] = {}
_RESOURCES_LOCK = threading.Lock()


def worker_resource(key: Hashable, factory: Callable[[], T]) -> T:
    """The object ``factory()`` built once per Python worker process for ``key``.

    ``key`` must name everything the object depends on (model path and its fingerprint,
    client timeout ...), never a secret. Thread-safe: concurrent first calls build it once."""
    try:
        return _RESOURCES[key]
    except KeyError:
        pass
    with _RESOURCES_LOCK:
        if key not in _RESOURCES:
            _RESOURCES[key] = factory()
        return _RESOURCES[key]


# --- secrets -------------------------------------------------------------------------------


class Secret:
    """A secret string that does not print itself. It pickles (tasks need the value), so it
    must only travel inside task closures, never in params, manifests or Spark conf."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def redact(self, text: str) -> str:
        """``text`` with every occurrence of the secret replaced by ``***``."""
        return text.replace(self._value, "***") if self._value else text

    def __repr__(self) -> str:
        return "Secret(***)"

    __str__ = __repr__

    def __getstate__(self) -> str:
        return self._value

    def __setstate__(self, state: str) -> None:
        self._value = state


def read_secret(env_name: str | None, what: str) -> Secret | None:
    """The secret in environment variable ``env_name`` (None when no variable is named).

    Raises :class:`UserError` naming the variable (never a value) when it is unset or empty."""
    if not env_name:
        return None
    value = os.environ.get(env_name, "")
    if not value:
        raise UserError(f"{what}: environment variable {env_name} (api_key_env) is not set")
    return Secret(value)


def redact(text: str, secret: Secret | None) -> str:
    return secret.redact(text) if secret is not None else text


# --- cache ---------------------------------------------------------------------------------


def cache_key(*parts: Any) -> str:
    """sha256 (hex) of the parts, JSON-encoded in order (strings, numbers, lists, dicts)."""
    blob = json.dumps(parts, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


class KeyCache:
    """Kill-safe key -> JSON value store: ``<folder>/<key[:2]>/<key>.json`` (see the module
    docstring for why one file per key). ``folder`` is a local path or an fsspec URI."""

    def __init__(self, folder: str) -> None:
        self.folder = folder.rstrip("/")
        self._remote = "://" in folder and not folder.startswith("file://")
        if not self._remote:
            self.folder = folder.removeprefix("file://")

    def _path(self, key: str) -> str:
        return f"{self.folder}/{key[:2]}/{key}.json"

    def get(self, key: str) -> Any | None:
        """The stored value, or None when the key was never written."""
        path = self._path(key)
        try:
            if self._remote:
                from corpus.engine import fs

                if not fs.exists(path):
                    return None
                return json.loads(fs.read_text(path))
            with open(path, encoding="utf-8") as f:
                return json.load(f)
        except FileNotFoundError:
            return None

    def put(self, key: str, value: Any) -> None:
        """Store ``value`` (JSON-serialisable) under ``key`` atomically."""
        path = self._path(key)
        data = json.dumps(value, ensure_ascii=False, sort_keys=True)
        if self._remote:  # object stores: a PUT is atomic by itself
            from corpus.engine import fs

            fs.makedirs(path.rsplit("/", 1)[0])
            with fs.open_binary_write(path) as f:
                f.write(data.encode("utf-8"))
            return
        folder = os.path.dirname(path)
        os.makedirs(folder, exist_ok=True)
        tmp = f"{folder}/.tmp-{uuid.uuid4().hex}"
        with open(tmp, "w", encoding="utf-8") as f:
            f.write(data)
        os.replace(tmp, path)

    def keys(self) -> list[str]:
        """Every stored key (tests, metrics); ignores leftover temporary files."""
        from corpus.engine import fs

        return sorted(
            p.rsplit("/", 1)[-1][: -len(".json")]
            for p in fs.walk_files(self.folder)
            if p.endswith(".json") and "/.tmp-" not in "/" + p
        )


# --- HTTP ----------------------------------------------------------------------------------


class TransientError(Exception):
    """A call that failed after every retry (HTTP 429/5xx, connection error, timeout, a body
    that is not JSON). Its message is already redacted; the row is kept with it and retried
    on the next run."""


class PermanentError(Exception):
    """A call the server refused for good (4xx other than 408/429): retrying cannot help."""


@dataclass(frozen=True)
class RetryPolicy:
    """Retries of one call: ``retries`` after the first attempt, backoff ``base_s * 2**n``
    with full jitter, capped at ``cap_s`` (also the most a ``Retry-After`` is waited)."""

    retries: int = 4
    base_s: float = 0.5
    cap_s: float = 30.0


RETRY_STATUS = frozenset({408, 429, 500, 502, 503, 504})


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delta-seconds or an HTTP date, RFC 9110
    §10.2.3); None when absent or unreadable."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when is None:
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


def backoff_delay(attempt: int, policy: RetryPolicy, retry_after: float | None, rng: random.Random) -> float:
    """Seconds to sleep before retry number ``attempt`` (0-based): the server's
    ``Retry-After`` when given (capped), else full jitter over the exponential backoff."""
    if retry_after is not None:
        return min(retry_after, policy.cap_s)
    return rng.uniform(0.0, min(policy.cap_s, policy.base_s * (2**attempt)))


def http_client(timeout_s: float, max_connections: int) -> httpx.Client:
    """This worker's shared ``httpx.Client`` for these settings (connection pool reused
    across batches and tasks). No credentials live in it: headers go with each request."""
    import httpx

    def build() -> httpx.Client:
        limits = httpx.Limits(max_connections=max_connections, max_keepalive_connections=max_connections)
        return httpx.Client(timeout=httpx.Timeout(timeout_s), limits=limits, follow_redirects=False)

    return worker_resource(("httpx.Client", float(timeout_s), int(max_connections)), build)


def post_json(
    client: httpx.Client,
    url: str,
    payload: dict[str, Any],
    headers: dict[str, str],
    policy: RetryPolicy,
    secret: Secret | None = None,
    rng: random.Random | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> tuple[dict[str, Any], int]:
    """POST ``payload`` as JSON; returns ``(decoded body, attempts made)``.

    Raises :class:`TransientError` after ``policy.retries`` retries of retryable failures and
    :class:`PermanentError` at once on other 4xx answers; both messages redacted."""
    import httpx

    rng = rng or random.Random()
    last = "no attempt"
    for attempt in range(policy.retries + 1):
        retry_after = None
        try:
            resp = client.post(url, json=payload, headers=headers)
        except httpx.HTTPError as e:  # connect/read errors, timeouts, protocol errors
            last = f"{type(e).__name__}: {e}"
        else:
            if resp.status_code < 300:
                try:
                    body = resp.json()
                except ValueError:
                    last = f"HTTP {resp.status_code} with a body that is not JSON"
                else:
                    if isinstance(body, dict):
                        return body, attempt + 1
                    last = f"HTTP {resp.status_code} with a JSON body that is not an object"
            elif resp.status_code in RETRY_STATUS or resp.status_code >= 500:
                last = f"HTTP {resp.status_code}"
                retry_after = parse_retry_after(resp.headers.get("retry-after"))
            else:
                snippet = resp.text[:200].replace("\n", " ")
                raise PermanentError(redact(f"HTTP {resp.status_code}: {snippet}", secret))
        if attempt < policy.retries:
            sleep(backoff_delay(attempt, policy, retry_after, rng))
    raise TransientError(redact(f"{last} after {policy.retries + 1} attempts", secret))


def map_bounded(fn: Callable[[T], R], items: Iterable[T], concurrency: int) -> list[R]:
    """``[fn(x) for x in items]`` with at most ``concurrency`` calls in flight (threads: the
    calls wait on the network, not the CPU), results in input order. ``fn`` must not raise."""
    items = list(items)
    if concurrency <= 1 or len(items) <= 1:
        return [fn(x) for x in items]
    with ThreadPoolExecutor(max_workers=min(concurrency, len(items))) as pool:
        return list(pool.map(fn, items))


def probe(base_url: str, secret: Secret | None, timeout_s: float, what: str) -> None:
    """Check once, on the driver, that an OpenAI-compatible endpoint answers (``GET
    {base_url}/models``) and accepts the key, before any data is processed.

    Raises :class:`UserError` (one line, key redacted) when it cannot be reached or answers
    401/403. Any other answer (even 404: not every server lists models) counts as reachable."""
    import httpx

    headers = {"Authorization": f"Bearer {secret.reveal()}"} if secret else {}
    url = base_url.rstrip("/") + "/models"
    try:
        with httpx.Client(timeout=httpx.Timeout(timeout_s)) as client:
            resp = client.get(url, headers=headers)
    except httpx.HTTPError as e:
        raise UserError(
            redact(f"{what}: endpoint {base_url} unreachable ({type(e).__name__}: {e})", secret)
        ) from None
    if resp.status_code in (401, 403):
        raise UserError(f"{what}: endpoint {base_url} refused the API key (HTTP {resp.status_code})")
