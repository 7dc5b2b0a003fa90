"""The learned intent classifier: it fits, it is reproducible, and the router blends it in."""

from __future__ import annotations

import numpy as np
import pytest

from whatsapp_ai.ai.router import IntentRouter
from whatsapp_ai.ai.router.classifier import IntentClassifier, train
from whatsapp_ai.core.text import fold


def _clusters(seed: int = 7) -> tuple[np.ndarray, list[str | None]]:
    """Three well-separated unit-vector clusters in 16 dimensions, 20 points each."""
    rng = np.random.default_rng(seed)
    centres = np.eye(16)[:3]
    points = np.vstack([c + 0.1 * rng.standard_normal((20, 16)) for c in centres])
    points /= np.linalg.norm(points, axis=1, keepdims=True)
    labels: list[str | None] = ["a"] * 20 + ["b"] * 20 + [None] * 20
    return points, labels


def test_learns_a_separable_set() -> None:
    points, labels = _clusters()
    classifier = train(points, labels)
    assert classifier.labels == ("a", "b", None)
    assert classifier.weights.shape == (17, 3)
    fresh, _ = _clusters(seed=8)
    predicted = [classifier.labels[i] for i in classifier.probabilities(fresh).argmax(axis=1)]
    assert predicted == labels
    assert classifier.probabilities(fresh).sum(axis=1) == pytest.approx(np.ones(60))


def test_training_is_reproducible() -> None:
    points, labels = _clusters()
    first, again = train(points, labels), train(points, labels)
    assert np.array_equal(first.weights, again.weights)


def test_needs_two_labels() -> None:
    points, _ = _clusters()
    with pytest.raises(ValueError, match="two labels"):
        train(points, ["a"] * len(points))


def _fitted(router: IntentRouter, extra: list[tuple[str, str | None]]) -> IntentClassifier:
    rows = [(e, i.id) for i in router.intents for e in i.examples]
    rows += [(text, None) for text in router.off_topic] + extra
    vectors = router.encoder.encode([fold(text) for text, _ in rows])
    return train(vectors, [label for _, label in rows])


def test_the_router_adds_the_weighted_probability(router: IntentRouter) -> None:
    classifier = _fitted(router, [])
    learned = IntentRouter(router.encoder, classifier=classifier, classifier_weight=0.1)
    plain = {s.intent: s for s in router.route("gastei 50 no mercado")}
    for scored in learned.route("gastei 50 no mercado"):
        assert 0.0 <= scored.learned <= 1.0
        expected = plain[scored.intent].score + 0.1 * scored.learned
        assert scored.score == pytest.approx(expected, abs=1e-5)
    assert sum(s.learned for s in learned.route("oi")) < 1.0  # the rest is "unknown"
    assert all(s.learned == 0.0 for s in router.route("oi"))


def test_a_confident_unknown_turns_the_message_away(router: IntentRouter) -> None:
    text = "quero uma receita de bolo"  # the similarities alone take it for an agent's
    classifier = _fitted(router, [(text, None)] * 20)
    gated = IntentRouter(router.encoder, classifier=classifier, classifier_weight=0.0)
    never = IntentRouter(
        router.encoder, classifier=classifier, classifier_weight=0.0, unknown_gate=1.01
    )
    accepted = router.best(text)
    assert accepted is not None
    assert gated.best(text) is None
    kept = never.best(text)
    assert kept is not None
    assert kept.intent == accepted.intent
    spent = gated.best("gastei 50 no mercado")
    assert spent is not None
    assert spent.intent == "finance.add_expense"
