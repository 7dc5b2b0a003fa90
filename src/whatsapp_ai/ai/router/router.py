"""Routing a WhatsApp message to an intent, offline: sentence embeddings plus cheap keyword priors.

Each intent scores the blend of its centroid's cosine and the mean cosine of its nearest examples
(centroids alone blur intents with varied phrasing, nearest examples alone over-trust one lucky
example; the blend beats both on the labelled set). A matching keyword pattern adds a small
boost. An optional learned classifier (`classifier.IntentClassifier`) adds its probability times
`classifier_weight`, and a message it deems unknown with at least `unknown_gate` is turned away.
`best` turns the top score into a decision: keyboard mashing, a weak score, or a message nearer to
the off-topic examples than to the winner gives None ("unknown").
"""

from __future__ import annotations

import asyncio
import re
import threading
from collections.abc import Collection, Sequence
from dataclasses import dataclass

import numpy as np

from whatsapp_ai.ai.router.classifier import IntentClassifier
from whatsapp_ai.ai.router.encoder import SentenceEncoder, Vectors, get_encoder
from whatsapp_ai.ai.router.intents import ASSISTANT, INTENTS, OFF_TOPIC, Intent
from whatsapp_ai.core.text import fold

# Chosen by a grid search over leave-one-out catalogue examples and labelled messages
# (tests/unit/router/routing_cases.py); bench/router.py prints the variants and a threshold sweep.
CENTROID_WEIGHT = 0.5
NEAREST_K = 3
KEYWORD_BOOST = 0.08
THRESHOLD = 0.34
OFF_TOPIC_MARGIN = 0.03
# For a learned classifier (5-fold cross-validation on the training messages, bench/router.py).
CLASSIFIER_WEIGHT = 0.05
UNKNOWN_GATE = 0.5

_KEYBOARD_ROWS = ("qwertyuiop", "asdfghjkl", "zxcvbnm")
_KEYBOARD_RUNS = frozenset(
    run
    for row in _KEYBOARD_ROWS
    for i in range(len(row) - 3)
    for run in (row[i : i + 4], row[i : i + 4][::-1])
)
_WORD = re.compile(r"[a-z]+")
_VOWEL = re.compile(r"[aeiouy]")
_CONSONANT_RUN = re.compile(r"[^aeiouy]{5,}")


@dataclass(frozen=True, slots=True)
class IntentScore:
    """How well a message fits one intent: `score` is `similarity` plus the keyword prior (plus
    the weighted probability `learned` when the router has a classifier)."""

    intent: str
    agent: str
    score: float
    similarity: float
    learned: float = 0.0


def _noisy_word(word: str) -> bool:
    if any(word[i : i + 4] in _KEYBOARD_RUNS for i in range(len(word) - 3)):
        return True
    if len(word) >= 5 and not _VOWEL.search(word):
        return True
    return bool(_CONSONANT_RUN.search(word)) or (len(word) >= 4 and len(set(word)) == 1)


def looks_like_noise(text: str) -> bool:
    """Whether every word is keyboard mashing ("asdfgh", "zxcvbnm", "jkjkjk", "aaaaa")."""
    words = _WORD.findall(fold(text))
    return bool(words) and all(_noisy_word(word) for word in words)


@dataclass(frozen=True, slots=True)
class _Index:
    intents: tuple[Intent, ...]
    centroids: Vectors  # (intents, dims)
    examples: Vectors  # (examples, dims), grouped by intent
    owners: tuple[range, ...]  # rows of `examples` per intent
    off_topic: Vectors
    keywords: tuple[tuple[re.Pattern[str], ...], ...]


class IntentRouter:
    """Scores messages against the intent catalogue; build once, share across tasks and threads."""

    def __init__(
        self,
        encoder: SentenceEncoder | None = None,
        *,
        intents: Sequence[Intent] = INTENTS,
        off_topic: Sequence[str] = OFF_TOPIC,
        always_enabled: Collection[str] = (ASSISTANT,),
        threshold: float = THRESHOLD,
        off_topic_margin: float = OFF_TOPIC_MARGIN,
        centroid_weight: float = CENTROID_WEIGHT,
        nearest_k: int = NEAREST_K,
        keyword_boost: float = KEYWORD_BOOST,
        classifier: IntentClassifier | None = None,
        classifier_weight: float = CLASSIFIER_WEIGHT,
        unknown_gate: float = UNKNOWN_GATE,
    ) -> None:
        if len({intent.id for intent in intents}) != len(intents):
            raise ValueError("intent ids must be unique")
        if any(not intent.examples for intent in intents):
            raise ValueError("every intent needs at least one example")
        self.encoder = encoder or get_encoder()
        self.intents = tuple(intents)
        self.off_topic = tuple(off_topic)
        self.always_enabled = frozenset(always_enabled)
        self.threshold = threshold
        self.off_topic_margin = off_topic_margin
        self.centroid_weight = centroid_weight
        self.nearest_k = nearest_k
        self.keyword_boost = keyword_boost
        self.classifier = classifier
        self.classifier_weight = classifier_weight
        self.unknown_gate = unknown_gate
        self._index: _Index | None = None
        self._lock = threading.Lock()

    @property
    def agents(self) -> frozenset[str]:
        """Every agent that owns at least one intent."""
        return frozenset(intent.agent for intent in self.intents)

    def warm(self) -> None:
        """Load the encoder and embed the catalogue now rather than on the first message."""
        self._ensure_index()

    async def awarm(self) -> None:
        """`warm` in a worker thread."""
        await asyncio.to_thread(self._ensure_index)

    def route(
        self, text: str, *, enabled_agents: Collection[str] | None = None
    ) -> list[IntentScore]:
        """Every candidate intent with its score, best first (candidates: the enabled agents')."""
        index = self._ensure_index()
        vector = self.encoder.encode([fold(text)])[0]
        return self._allowed(self._rank(index, text, vector), enabled_agents)

    async def aroute(
        self, text: str, *, enabled_agents: Collection[str] | None = None
    ) -> list[IntentScore]:
        """`route` without blocking the event loop."""
        index = await self._aensure_index()
        vector = (await self.encoder.aencode([fold(text)]))[0]
        return self._allowed(self._rank(index, text, vector), enabled_agents)

    def best(
        self,
        text: str,
        *,
        threshold: float | None = None,
        enabled_agents: Collection[str] | None = None,
    ) -> IntentScore | None:
        """The intent to act on; None for off-topic, noise, or a message for a disabled agent."""
        if looks_like_noise(text):
            return None
        index = self._ensure_index()
        vector = self.encoder.encode([fold(text)])[0]
        return self._decide(index, text, vector, threshold, enabled_agents)

    async def abest(
        self,
        text: str,
        *,
        threshold: float | None = None,
        enabled_agents: Collection[str] | None = None,
    ) -> IntentScore | None:
        """`best` without blocking the event loop."""
        if looks_like_noise(text):
            return None
        index = await self._aensure_index()
        vector = (await self.encoder.aencode([fold(text)]))[0]
        return self._decide(index, text, vector, threshold, enabled_agents)

    def _decide(
        self,
        index: _Index,
        text: str,
        vector: Vectors,
        threshold: float | None,
        enabled_agents: Collection[str] | None,
    ) -> IntentScore | None:
        ranked = self._rank(index, text, vector)
        top = ranked[0]
        # A message that plainly belongs to a switched-off agent is not forced into another one.
        if not self._allowed([top], enabled_agents):
            return None
        if top.score < (self.threshold if threshold is None else threshold):
            return None
        nearest = top.score - self.classifier_weight * top.learned
        if len(index.off_topic) and nearest <= float(np.max(index.off_topic @ vector)) + (
            self.off_topic_margin
        ):
            return None
        if self.classifier is not None and None in self.classifier.labels:
            unknown = self.classifier.probabilities(vector[None])[
                0, self.classifier.labels.index(None)
            ]
            if unknown >= self.unknown_gate:
                return None
        return top

    def _allowed(
        self, ranked: list[IntentScore], enabled_agents: Collection[str] | None
    ) -> list[IntentScore]:
        if enabled_agents is None:
            return ranked
        allowed = self.always_enabled.union(enabled_agents)
        return [score for score in ranked if score.agent in allowed]

    def _rank(self, index: _Index, text: str, vector: Vectors) -> list[IntentScore]:
        centroid = index.centroids @ vector
        cosines = index.examples @ vector
        folded = fold(text)
        learned = self._learned(vector)
        scores: list[IntentScore] = []
        for i, intent in enumerate(index.intents):
            own = cosines[index.owners[i].start : index.owners[i].stop]
            k = min(self.nearest_k, len(own))
            nearest = float(np.partition(own, len(own) - k)[-k:].mean())
            similarity = (
                self.centroid_weight * float(centroid[i]) + (1 - self.centroid_weight) * nearest
            )
            prior = self.keyword_boost if any(p.search(folded) for p in index.keywords[i]) else 0.0
            p = learned.get(intent.id, 0.0)
            score = similarity + prior + self.classifier_weight * p
            scores.append(IntentScore(intent.id, intent.agent, score, similarity, p))
        scores.sort(key=lambda s: (-s.score, s.intent))
        return scores

    def _learned(self, vector: Vectors) -> dict[str | None, float]:
        if self.classifier is None:
            return {}
        row = self.classifier.probabilities(vector[None])[0]
        return dict(zip(self.classifier.labels, map(float, row), strict=True))

    async def _aensure_index(self) -> _Index:
        if self._index is not None:
            return self._index
        return await asyncio.to_thread(self._ensure_index)

    def _ensure_index(self) -> _Index:
        if self._index is not None:
            return self._index
        with self._lock:
            if self._index is None:
                self._index = self._build()
            return self._index

    def _build(self) -> _Index:
        texts = [fold(example) for intent in self.intents for example in intent.examples]
        examples = self.encoder.encode(texts)
        owners: list[range] = []
        centroids = np.empty((len(self.intents), examples.shape[1]), dtype=np.float32)
        start = 0
        for i, intent in enumerate(self.intents):
            rows = range(start, start + len(intent.examples))
            mean = examples[rows.start : rows.stop].mean(axis=0)
            centroids[i] = mean / max(float(np.linalg.norm(mean)), 1e-12)
            owners.append(rows)
            start = rows.stop
        off_topic = (
            self.encoder.encode([fold(text) for text in self.off_topic])
            if self.off_topic
            else np.empty((0, examples.shape[1]), dtype=np.float32)
        )
        return _Index(
            intents=self.intents,
            centroids=centroids,
            examples=examples,
            owners=tuple(owners),
            off_topic=off_topic,
            keywords=tuple(
                tuple(re.compile(pattern) for pattern in intent.keywords) for intent in self.intents
            ),
        )
