"""The conversation state machine: every allowed change, and every other one refused."""

from __future__ import annotations

import itertools

import pytest

from whatsapp_ai.conversation.states import (
    ENDED,
    HUMAN,
    OPEN,
    TRANSITIONS,
    Actor,
    Status,
    TransitionError,
    check,
)

A, W, H, D, C, E, F = (
    "active",
    "waiting_human",
    "with_human",
    "idle",
    "closed",
    "expired",
    "failed",
)

# The specification, written out: (from, to) → who may do it.
ALLOWED = {
    (A, W): "user assistant operator system",
    (A, H): "operator",
    (A, D): "system",
    (A, C): "user assistant operator",
    (A, F): "system",
    (W, H): "operator system",
    (W, A): "operator system",
    (W, C): "user operator",
    (W, F): "system",
    (H, A): "operator system",
    (H, W): "operator",
    (H, H): "operator",
    (H, C): "user operator",
    (H, F): "system",
    (D, A): "user",
    (D, W): "user operator",
    (D, H): "operator",
    (D, C): "user operator",
    (D, E): "system",
    (D, F): "system",
    (F, A): "system",
    (F, W): "system",
}
EVERY = [
    (source, dest, actor) for source, dest in itertools.product(Status, Status) for actor in Actor
]


def test_the_table_is_the_specification() -> None:
    table = {
        (source.value, dest.value): " ".join(sorted(a.value for a in actors))
        for (source, dest), actors in TRANSITIONS.items()
    }
    assert table == {pair: " ".join(sorted(who.split())) for pair, who in ALLOWED.items()}


@pytest.mark.parametrize(("source", "dest", "actor"), EVERY, ids=lambda v: str(v))
def test_each_change_is_allowed_exactly_as_specified(
    source: Status, dest: Status, actor: Actor
) -> None:
    allowed = actor.value in ALLOWED.get((source.value, dest.value), "").split()
    if allowed:
        assert check(source, dest, actor) == (source, dest, actor)
    else:
        with pytest.raises(TransitionError):
            check(source, dest, actor)


@pytest.mark.parametrize("ended", sorted(ENDED))
def test_an_ended_conversation_never_changes_and_says_so(ended: Status) -> None:
    for dest, actor in itertools.product(Status, Actor):
        if (ended.value, dest.value) in ALLOWED:
            continue
        with pytest.raises(TransitionError, match=f"is {ended.value}"):
            check(ended, dest, actor)


def test_only_a_failed_conversation_comes_back_and_only_by_the_system() -> None:
    back = {(source, dest) for source, dest in ALLOWED if source in ENDED}
    assert back == {(F, A), (F, W)}
    for actor in (Actor.USER, Actor.ASSISTANT, Actor.OPERATOR):
        with pytest.raises(TransitionError, match="cannot move a conversation from failed"):
            check(F, A, actor)


def test_refusals_name_what_was_refused() -> None:
    with pytest.raises(TransitionError, match="cannot go from active to expired"):
        check("active", "expired", "system")
    with pytest.raises(TransitionError, match=r"the user cannot move .* from active to idle"):
        check("active", "idle", "user")
    with pytest.raises(TransitionError, match="'paused' is not a valid Status"):
        check("active", "paused", "operator")
    with pytest.raises(TransitionError, match="'robot' is not a valid Actor"):
        check("active", "closed", "robot")


def test_every_open_state_can_end_and_every_state_is_reachable() -> None:
    assert set(Status) == OPEN | ENDED
    assert not OPEN & ENDED
    assert HUMAN <= OPEN
    for state in OPEN:
        assert any((state, end) in TRANSITIONS for end in ENDED), state
    reachable = {Status.ACTIVE} | {dest for _, dest in TRANSITIONS}
    assert reachable == set(Status)
