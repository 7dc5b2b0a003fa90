"""Routing WhatsApp messages to intents with the real offline encoder (PT and EN)."""

from __future__ import annotations

from collections import Counter, defaultdict
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.unit.router.routing_cases import CASES
from whatsapp_ai.ai.router import ASSISTANT, IntentRouter, looks_like_noise
from whatsapp_ai.ai.router.encoder import get_encoder
from whatsapp_ai.core.text import fold

MIN_ACCURACY = 0.90


def _confusion(misses: list[tuple[str, str | None, str | None]]) -> str:
    """Misrouted messages grouped by expected intent, for a readable failure."""
    by_expected: dict[str | None, Counter[str | None]] = defaultdict(Counter)
    for _text, expected, got in misses:
        by_expected[expected][got] += 1
    lines = ["expected -> got (count)"]
    for expected, counts in sorted(by_expected.items(), key=lambda kv: -sum(kv[1].values())):
        spread = ", ".join(f"{g or 'unknown'} x{n}" for g, n in counts.most_common())
        lines.append(f"  {expected or 'unknown'} -> {spread}")
    lines += ["misrouted:"] + [
        f"  {t!r}: {e or 'unknown'} -> {g or 'unknown'}" for t, e, g in misses
    ]
    return "\n".join(lines)


def test_routes_the_labelled_messages(router: IntentRouter) -> None:
    # Routed from several threads at once, as workers do: the encoder batches them.
    with ThreadPoolExecutor(max_workers=8) as pool:
        decisions = list(pool.map(router.best, [text for text, _ in CASES]))
    misses: list[tuple[str, str | None, str | None]] = []
    for (text, expected), best in zip(CASES, decisions, strict=True):
        got = best.intent if best else None
        if got != expected:
            misses.append((text, expected, got))
    accuracy = 1 - len(misses) / len(CASES)
    assert accuracy >= MIN_ACCURACY, f"accuracy {accuracy:.1%}\n{_confusion(misses)}"


def test_the_labelled_set_is_large_bilingual_and_unseen(router: IntentRouter) -> None:
    examples = {fold(e) for intent in router.intents for e in intent.examples}
    examples |= {fold(e) for e in router.off_topic}
    texts = [fold(text) for text, _ in CASES]
    assert len(CASES) >= 150
    assert not examples.intersection(texts)
    assert len(set(texts)) == len(texts)
    labels = {label for _, label in CASES}
    assert labels == {intent.id for intent in router.intents} | {None}


@pytest.mark.parametrize(
    "text",
    [
        "qual a capital da França?",
        "asdfgh",
        "quem ganhou a copa de 1970?",
        "what is the boiling point of water",
        "kkkkkkkk",
    ],
)
def test_off_topic_messages_are_unknown(router: IntentRouter, text: str) -> None:
    assert router.best(text) is None


def test_threshold_is_the_callers_to_tighten(router: IntentRouter) -> None:
    text = "gastei 50 no mercado"
    best = router.best(text)
    assert best is not None
    assert best.intent == "finance.add_expense"
    assert router.best(text, threshold=best.score + 0.01) is None
    assert router.best(text, threshold=0.0) == best


def test_route_ranks_every_candidate_best_first(router: IntentRouter) -> None:
    ranked = router.route("me lembra de ligar pro João amanhã")
    assert ranked[0].intent == "crm.add_reminder"
    assert len(ranked) == len(router.intents)
    assert [s.score for s in ranked] == sorted((s.score for s in ranked), reverse=True)
    assert all(s.score >= s.similarity for s in ranked)


def test_keyword_prior_adds_to_the_embedding_score(router: IntentRouter) -> None:
    scores = {s.intent: s for s in router.route("paguei 120 no dentista")}
    boosted = scores["finance.add_expense"]
    assert boosted.score == pytest.approx(boosted.similarity + router.keyword_boost)
    assert scores["crm.add_contact"].score == scores["crm.add_contact"].similarity


def test_enabled_agents_restrict_the_candidates(router: IntentRouter) -> None:
    ranked = router.route("quero 2 camisetas", enabled_agents={"finance"})
    assert {s.agent for s in ranked} == {"finance", ASSISTANT}
    assert {s.agent for s in router.route("oi", enabled_agents=set())} == {ASSISTANT}


def test_a_message_for_a_switched_off_agent_is_unknown(router: IntentRouter) -> None:
    finance_only = {"finance"}
    assert router.best("quero 2 camisetas", enabled_agents=finance_only) is None
    spent = router.best("gastei 50 no mercado", enabled_agents=finance_only)
    assert spent is not None
    assert spent.intent == "finance.add_expense"
    greeting = router.best("bom dia!", enabled_agents=set())
    assert greeting is not None
    assert greeting.intent == "smalltalk.greeting"
    order = router.best("quero 2 camisetas", enabled_agents={"sales"})
    assert order is not None
    assert order.intent == "sales.order_add"


def test_routing_is_deterministic(router: IntentRouter) -> None:
    text = "quanto gastei com gasolina em setembro?"
    first = router.route(text)
    assert router.route(text) == first
    rebuilt = IntentRouter(router.encoder)
    router.encoder.cache_clear()
    again = rebuilt.route(text)
    assert [s.intent for s in again] == [s.intent for s in first]
    assert [s.score for s in again] == pytest.approx([s.score for s in first], abs=1e-5)


def test_repeated_messages_come_from_the_cache(router: IntentRouter) -> None:
    text = "vcs entregam em Petrópolis?"
    router.route(text)
    hits, misses = router.encoder.hits, router.encoder.misses
    router.route(text)
    assert (router.encoder.hits, router.encoder.misses) == (hits + 1, misses)


def test_the_process_shares_one_encoder_loaded_once(router: IntentRouter) -> None:
    assert router.encoder is get_encoder()
    assert IntentRouter().encoder is get_encoder()
    assert get_encoder().loads == 1


async def test_async_routing_matches_sync(router: IntentRouter) -> None:
    text = "marca reunião com a Ana sexta às 10h"
    assert await router.aroute(text) == router.route(text)
    assert await router.abest(text) == router.best(text)
    assert await router.abest("zxcvbnm") is None
    ranked = await router.aroute(text, enabled_agents={"crm"})
    assert {s.agent for s in ranked} == {"crm", ASSISTANT}


@pytest.mark.parametrize(
    ("text", "noise"),
    [
        ("asdfgh", True),
        ("qwerty uiop", True),
        ("zxcvbnm", True),
        ("jkjkjkjk", True),
        ("aaaaaa", True),
        ("vlw", False),
        ("obg pfv", False),
        ("quero 2 camisetas", False),
        ("tudo bem?", False),
        ("123", False),
        ("👍", False),
    ],
)
def test_keyboard_mashing_is_noise(text: str, noise: bool) -> None:
    assert looks_like_noise(text) is noise
