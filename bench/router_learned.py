"""The learned intent classifier for bench/router.py: its training set and its cross-validation.

Training messages: the catalogue's examples, the off-topic examples (label None) and the
single-request examples of evals/assistant.jsonl that name one intent, minus any text that is
also a labelled routing case (tests/unit/router/routing_cases.py is the measurement set).
Cross-validation: 5 folds over the training messages; each fold's router is built without the
held-out catalogue and off-topic examples, and its classifier is trained on the other folds.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import replace
from pathlib import Path

import numpy as np

from whatsapp_ai.ai.router import (
    INTENTS,
    OFF_TOPIC,
    IntentRouter,
    SentenceEncoder,
    looks_like_noise,
)
from whatsapp_ai.ai.router.classifier import IntentClassifier, train
from whatsapp_ai.core.text import fold

Labelled = list[tuple[str, str | None, str]]  # text, label, source


def training_set(assistant: Path, held_out: Iterable[str]) -> Labelled:
    """Catalogue, off-topic and single-intent eval messages, none of them in `held_out`."""
    unseen = {fold(text) for text in held_out}
    rows: Labelled = [(e, intent.id, "catalogue") for intent in INTENTS for e in intent.examples]
    rows += [(text, None, "off_topic") for text in OFF_TOPIC]
    for line in assistant.read_text().splitlines():
        example = json.loads(line)
        intents = example["expect"].get("intents")
        if intents is not None and len(intents) == 1 and fold(example["text"]) not in unseen:
            rows.append((example["text"], intents[0], "assistant"))
    return rows


def fit(encoder: SentenceEncoder, rows: Labelled) -> IntentClassifier:
    """The classifier trained on every row."""
    vectors = encoder.encode([fold(text) for text, _, _ in rows])
    return train(vectors, [label for _, label, _ in rows])


def cross_validate(
    encoder: SentenceEncoder,
    rows: Labelled,
    grid: Sequence[tuple[float, float]],
    folds: int = 5,
) -> dict[tuple[float, float], float]:
    """Accuracy of the router with a classifier for each (weight, unknown gate) in `grid`."""
    order = np.random.default_rng(0).permutation(len(rows))
    right = dict.fromkeys(grid, 0)
    for fold_rows in (set(order[i::folds].tolist()) for i in range(folds)):
        held = [rows[i] for i in sorted(fold_rows)]
        kept = [row for i, row in enumerate(rows) if i not in fold_rows]
        held_texts = {text for text, _, source in held if source != "assistant"}
        intents = [
            replace(i, examples=tuple(e for e in i.examples if e not in held_texts) or i.examples)
            for i in INTENTS
        ]
        off_topic = [text for text in OFF_TOPIC if text not in held_texts]
        classifier = fit(encoder, kept)
        for weight, gate in grid:
            router = IntentRouter(
                encoder,
                intents=intents,
                off_topic=off_topic,
                classifier=classifier,
                classifier_weight=weight,
                unknown_gate=gate,
            )
            for text, label, _ in held:
                best = router.best(text)
                right[weight, gate] += (best.intent if best else None) == label
    return {key: count / len(rows) for key, count in right.items()}


def learned_decision(
    encoder: SentenceEncoder, classifier: IntentClassifier
) -> Callable[[str], str | None]:
    """The classifier alone: its most probable label (keyboard mashing stays unknown)."""

    def decide(text: str) -> str | None:
        if looks_like_noise(text):
            return None
        row = classifier.probabilities(encoder.encode([fold(text)]))[0]
        return classifier.labels[int(np.argmax(row))]

    return decide
