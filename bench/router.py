"""Offline intent router: accuracy, routes/s and latency against a same-run regex baseline.

Baseline: the catalogue's own keyword patterns as a router on their own (the intent with the most
matching patterns; none matching is "unknown"). The labelled set is the test suite's
(tests/unit/router/routing_cases.py: PT and EN, none of them catalogue examples). Rows:

- accuracy of each scoring variant (centroid, nearest examples, their blend, blend + keyword prior),
  counting "unknown" for off-topic messages as right;
- speed of `best()` for new messages (encoder cache cleared) and repeated ones (cache warm), and of
  `abest()` with several messages in flight; each as routes/s and as a ratio to the baseline;
- a threshold sweep of the shipped router, which is how its threshold was chosen;
- the learned classifier (bench/router_learned.py): alone, added to the shipped scores, and the
  5-fold cross-validation on its training messages that chose its weight and unknown gate.

    .venv/bin/python -m bench.router [--passes 3] [--concurrency 8]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import runpy
import statistics
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.router_learned import cross_validate, fit, learned_decision, training_set
from whatsapp_ai.ai.router import INTENTS, IntentRouter, get_encoder, looks_like_noise
from whatsapp_ai.ai.router.router import CLASSIFIER_WEIGHT, UNKNOWN_GATE
from whatsapp_ai.core.text import fold

ROOT = Path(__file__).resolve().parent.parent
RESULTS = Path(__file__).parent / "results"
Cases = Sequence[tuple[str, str | None]]


def _cases() -> Cases:
    cases: Cases = runpy.run_path(str(ROOT / "tests/unit/router/routing_cases.py"))["CASES"]
    return cases


class KeywordRouter:
    """The baseline: regular expressions only."""

    def __init__(self) -> None:
        self._patterns = [
            (intent.id, [re.compile(pattern) for pattern in intent.keywords]) for intent in INTENTS
        ]

    def best(self, text: str) -> str | None:
        folded = fold(text)
        counts = [(sum(bool(p.search(folded)) for p in pats), id_) for id_, pats in self._patterns]
        hits, intent = max(counts, key=lambda c: c[0])
        return intent if hits and not looks_like_noise(text) else None


def _accuracy(cases: Cases, decide: Callable[[str], str | None]) -> dict[str, float]:
    right = [decide(text) == label for text, label in cases]
    known = [ok for ok, (_, label) in zip(right, cases, strict=True) if label is not None]
    unknown = [ok for ok, (_, label) in zip(right, cases, strict=True) if label is None]
    return {
        "accuracy": sum(right) / len(right),
        "in_scope_accuracy": sum(known) / len(known),
        "off_topic_rejected": sum(unknown) / len(unknown),
    }


def _intent(router: IntentRouter, threshold: float | None = None) -> Callable[[str], str | None]:
    def decide(text: str) -> str | None:
        best = router.best(text, threshold=threshold)
        return best.intent if best else None

    return decide


def _stats(samples: list[float], elapsed: float) -> dict[str, float]:
    samples.sort()
    return {
        "routes_per_s": len(samples) / elapsed,
        "p50_ms": statistics.median(samples) * 1000,
        "p99_ms": samples[min(len(samples) - 1, int(len(samples) * 0.99))] * 1000,
    }


def _latencies(texts: Sequence[str], call: Callable[[str], Any], passes: int) -> dict[str, float]:
    samples: list[float] = []
    started = time.perf_counter()
    for _ in range(passes):
        for text in texts:
            t0 = time.perf_counter()
            call(text)
            samples.append(time.perf_counter() - t0)
    elapsed = time.perf_counter() - started
    return _stats(samples, elapsed)


async def _concurrent(router: IntentRouter, texts: Sequence[str], tasks: int) -> dict[str, float]:
    queue: asyncio.Queue[str] = asyncio.Queue()
    for text in texts:
        queue.put_nowait(text)
    samples: list[float] = []

    async def worker() -> None:
        while not queue.empty():
            text = queue.get_nowait()
            t0 = time.perf_counter()
            await router.abest(text)
            samples.append(time.perf_counter() - t0)

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(tasks)))
    elapsed = time.perf_counter() - started
    return _stats(samples, elapsed)


def _threaded(router: IntentRouter, texts: Sequence[str], threads: int) -> dict[str, float]:
    samples: list[float] = []

    def timed(text: str) -> None:
        t0 = time.perf_counter()
        router.best(text)
        samples.append(time.perf_counter() - t0)

    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=threads) as pool:
        list(pool.map(timed, texts))
    elapsed = time.perf_counter() - started
    return _stats(samples, elapsed)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--passes", type=int, default=3)
    parser.add_argument("--concurrency", type=int, default=8)
    args = parser.parse_args()
    cases = _cases()
    texts = [text for text, _ in cases]
    encoder = get_encoder()

    t0 = time.perf_counter()
    router = IntentRouter(encoder)
    router.warm()
    warm_s = time.perf_counter() - t0

    baseline = KeywordRouter()
    rows = training_set(ROOT / "evals/assistant.jsonl", texts)
    t0 = time.perf_counter()
    classifier = fit(encoder, rows)
    train_s = time.perf_counter() - t0
    grid = [(w, g) for w in (0.0, 0.03, 0.05, 0.08, 0.1, 0.2) for g in (0.5, 0.7, 1.01)]
    cv = cross_validate(encoder, rows, grid)
    learned = IntentRouter(encoder, classifier=classifier)
    variants = {
        "regex baseline": baseline.best,
        "centroid": _intent(IntentRouter(encoder, centroid_weight=1.0, keyword_boost=0.0)),
        "nearest-3": _intent(IntentRouter(encoder, centroid_weight=0.0, keyword_boost=0.0)),
        "blend": _intent(IntentRouter(encoder, keyword_boost=0.0)),
        "blend + keywords (shipped)": _intent(router),
        "learned classifier alone": learned_decision(encoder, classifier),
        f"blend + keywords + {CLASSIFIER_WEIGHT} x learned": _intent(learned),
    }
    accuracy = {name: _accuracy(cases, decide) for name, decide in variants.items()}
    sweep = {
        f"{threshold:.2f}": _accuracy(cases, _intent(router, threshold))["accuracy"]
        for threshold in (0.26, 0.30, 0.34, 0.38, 0.42)
    }

    speed: dict[str, dict[str, float]] = {}
    speed["regex baseline"] = _latencies(texts, baseline.best, args.passes)

    def new_message(text: str) -> None:
        encoder.cache_clear()
        router.best(text)

    speed["best, new message"] = _latencies(texts, new_message, args.passes)
    router.best(texts[0])
    speed["best, repeated message"] = _latencies(texts, router.best, args.passes)
    encoder.cache_clear()
    speed[f"abest x{args.concurrency} in flight"] = asyncio.run(
        _concurrent(router, texts, args.concurrency)
    )
    encoder.cache_clear()
    speed[f"best from {args.concurrency} threads"] = _threaded(router, texts, args.concurrency)
    encoder.cache_clear()
    t0 = time.perf_counter()
    encoder.encode([fold(text) for text in texts])
    batch_per_s = len(texts) / (time.perf_counter() - t0)

    base = speed["regex baseline"]["routes_per_s"]
    load = os.getloadavg()[0]
    print(f"labelled messages: {len(cases)}  router warm-up: {warm_s:.2f} s  load: {load:.1f}")
    print(f"{'variant':<28} {'accuracy':>9} {'in scope':>9} {'off-topic':>10}")
    for name, row in accuracy.items():
        print(
            f"{name:<28} {row['accuracy']:>9.1%} {row['in_scope_accuracy']:>9.1%} "
            f"{row['off_topic_rejected']:>10.1%}"
        )
    print(f"\n{'step':<28} {'routes/s':>9} {'x baseline':>11} {'p50 ms':>8} {'p99 ms':>8}")
    for name, row in speed.items():
        print(
            f"{name:<28} {row['routes_per_s']:>9.0f} {row['routes_per_s'] / base:>11.4f} "
            f"{row['p50_ms']:>8.2f} {row['p99_ms']:>8.2f}"
        )
    print(f"{'encode batch (sentences/s)':<28} {batch_per_s:>9.0f} {batch_per_s / base:>11.4f}")
    print(f"\nlearned: {len(rows)} training messages, trained in {train_s:.2f} s")
    print("cross-validated accuracy (weight, unknown gate; gate 1.01 = never):")
    for (weight, gate), value in cv.items():
        chosen = (weight, gate) == (CLASSIFIER_WEIGHT, UNKNOWN_GATE)
        print(f"  {weight:>5.2f} {gate:>5.2f}  {value:>7.1%}{'  <- chosen' if chosen else ''}")
    print("\nthreshold  accuracy")
    for threshold, value in sweep.items():
        marker = "  <- shipped" if float(threshold) == round(router.threshold, 2) else ""
        print(f"{threshold:>9}  {value:>8.1%}{marker}")

    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / "router.json"
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    payload = {
        "at": stamp,
        "cases": len(cases),
        "passes": args.passes,
        "warm_up_s": warm_s,
        "load_average_1m": load,
        "accuracy": accuracy,
        "speed": speed,
        "encode_batch_sentences_per_s": batch_per_s,
        "threshold_sweep": sweep,
        "learned": {
            "training_messages": len(rows),
            "train_s": train_s,
            "weight": CLASSIFIER_WEIGHT,
            "unknown_gate": UNKNOWN_GATE,
            "cross_validation": {f"{w:.2f}/{g:.2f}": value for (w, g), value in cv.items()},
        },
        "shipped": {
            "threshold": router.threshold,
            "off_topic_margin": router.off_topic_margin,
            "centroid_weight": router.centroid_weight,
            "nearest_k": router.nearest_k,
            "keyword_boost": router.keyword_boost,
        },
    }
    out.write_text(json.dumps(payload, indent=2) + "\n")
    print(f"written {out}")


if __name__ == "__main__":
    main()
