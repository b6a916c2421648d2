"""The service mechanism (corpus/engine/service.py) against a real HTTP server on 127.0.0.1."""

from __future__ import annotations

import json
import pickle
import random
import threading
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime

import pytest

from corpus.engine import service
from corpus.engine.service import (
    KeyCache,
    PermanentError,
    RetryPolicy,
    Secret,
    TransientError,
    backoff_delay,
    map_bounded,
    parse_retry_after,
    post_json,
    probe,
    read_secret,
)
from corpus.errors import UserError
from tests.service.server import OpenAIServer

KEY = "sk-test-7f3a9c1e5b2d4680"
FAST = RetryPolicy(retries=3, base_s=0.01, cap_s=0.05)


def chat(text: str) -> dict:
    return {"model": "m", "messages": [{"role": "user", "content": text}], "max_tokens": 4}


@pytest.fixture
def server():
    with OpenAIServer(api_key=KEY, slow_s=0.2) as srv:
        yield srv


def _client():
    return service.http_client(5.0, 8)


def _auth():
    return {"Authorization": f"Bearer {KEY}"}


@pytest.mark.parametrize("marker", ["FLAKY429", "FLAKY500", "GARBAGE"])
def test_retryable_failures_are_retried_then_succeed(server, marker):
    body, attempts = post_json(
        _client(), server.base_url + "/chat/completions", chat(f"doc-7 {marker}"), _auth(), FAST
    )
    assert attempts == 2
    assert server.calls["doc-7"] == 2
    assert body["choices"][0]["message"]["content"] == "Score: 1"


def test_persistent_500_raises_transient_after_every_retry_without_the_key(server):
    with pytest.raises(TransientError) as err:
        post_json(
            _client(),
            server.base_url + "/chat/completions",
            chat("doc-3 FAIL500"),
            _auth(),
            FAST,
            Secret(KEY),
        )
    assert server.calls["doc-3"] == FAST.retries + 1
    assert "HTTP 500" in str(err.value) and KEY not in str(err.value)


def test_a_4xx_is_permanent_and_not_retried(server):
    with pytest.raises(PermanentError) as err:
        post_json(_client(), server.base_url + "/chat/completions", chat("doc-1"), {}, FAST)
    assert "HTTP 401" in str(err.value)
    assert server.auth_failures == 1


def test_connection_refused_is_transient():
    with OpenAIServer() as srv:
        url = srv.base_url + "/chat/completions"
    with pytest.raises(TransientError) as err:
        post_json(service.http_client(1.0, 2), url, chat("doc-1"), {}, RetryPolicy(1, 0.0, 0.0))
    assert "ConnectError" in str(err.value)


def test_timeouts_are_retried(server):
    server.slow_s = 1.0
    with pytest.raises(TransientError) as err:
        post_json(
            service.http_client(0.2, 2),
            server.base_url + "/chat/completions",
            chat("doc-2 SLOW"),
            _auth(),
            FAST,
        )
    assert "Timeout" in str(err.value)
    assert server.calls["doc-2"] == FAST.retries + 1


def test_retry_after_seconds_and_http_date():
    assert parse_retry_after("3") == 3.0
    assert parse_retry_after(" 0 ") == 0.0
    now = datetime(2026, 1, 1, tzinfo=timezone.utc)
    later = format_datetime(now + timedelta(seconds=20), usegmt=True)
    assert parse_retry_after(later, now=now.timestamp()) == pytest.approx(20.0)
    assert parse_retry_after("soon") is None
    assert parse_retry_after(None) is None


def test_backoff_is_full_jitter_under_the_exponential_cap_and_honours_retry_after():
    policy = RetryPolicy(retries=8, base_s=0.5, cap_s=4.0)
    rng = random.Random(0)
    for attempt in range(8):
        bound = min(4.0, 0.5 * 2**attempt)
        delays = [backoff_delay(attempt, policy, None, rng) for _ in range(200)]
        assert all(0.0 <= d <= bound for d in delays)
        assert max(delays) > bound / 2  # jittered over the whole range, not a constant
    assert backoff_delay(0, policy, 2.5, rng) == 2.5
    assert backoff_delay(0, policy, 100.0, rng) == 4.0  # capped


def test_bounded_concurrency_is_observed_at_the_server(server):
    client = _client()
    url = server.base_url + "/chat/completions"

    def call(i: int) -> str:
        body, _ = post_json(client, url, chat(f"doc-{i} SLOW"), _auth(), FAST)
        return body["choices"][0]["message"]["content"]

    answers = map_bounded(call, range(12), 3)
    assert answers == [f"Score: {i % 6}" for i in range(12)]
    assert 2 <= server.max_in_flight <= 3


def test_cache_is_atomic_per_key_and_ignores_leftovers(tmp_path):
    cache = KeyCache(str(tmp_path / "c"))
    key = service.cache_key("openai", "m", "tmpl", "text")
    assert cache.get(key) is None
    (tmp_path / "c" / key[:2]).mkdir(parents=True)
    (tmp_path / "c" / key[:2] / ".tmp-deadbeef").write_text('{"score": 1')  # a killed write

    def write(i: int) -> None:
        for _ in range(50):
            cache.put(key, {"score": 3.0, "raw": "Score: 3"})
            assert cache.get(key) == {"score": 3.0, "raw": "Score: 3"}

    threads = [threading.Thread(target=write, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert cache.keys() == [key]
    assert json.loads((tmp_path / "c" / key[:2] / f"{key}.json").read_text())["score"] == 3.0


def test_worker_resource_is_built_once_per_key():
    built = []
    for _ in range(3):
        service.worker_resource(("test", 1), lambda: built.append(1) or object())
    service.worker_resource(("test", 2), lambda: built.append(2) or object())
    assert built == [1, 2]


def test_secret_never_prints_and_survives_pickling(monkeypatch):
    s = Secret(KEY)
    assert KEY not in repr(s) and KEY not in str(s) and KEY not in f"{s}"
    assert pickle.loads(pickle.dumps(s)).reveal() == KEY
    assert s.redact(f"Authorization: Bearer {KEY} failed") == "Authorization: Bearer *** failed"
    monkeypatch.delenv("CORPUS_TEST_KEY", raising=False)
    with pytest.raises(UserError, match="CORPUS_TEST_KEY"):
        read_secret("CORPUS_TEST_KEY", "stage 'annotate'")
    monkeypatch.setenv("CORPUS_TEST_KEY", KEY)
    assert read_secret("CORPUS_TEST_KEY", "x").reveal() == KEY
    assert read_secret(None, "x") is None


def test_probe_fails_fast_on_unreachable_endpoint_and_on_a_refused_key(server):
    probe(server.base_url, Secret(KEY), 2.0, "stage 'a'")
    with pytest.raises(UserError, match="refused the API key") as err:
        probe(server.base_url, Secret("wrong-key"), 2.0, "stage 'a'")
    assert "wrong-key" not in str(err.value)
    with OpenAIServer() as gone:
        url = gone.base_url
    with pytest.raises(UserError, match="unreachable"):
        probe(url, None, 1.0, "stage 'a'")
