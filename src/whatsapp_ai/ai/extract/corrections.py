"""A note corrected by the words that fix it: "a Julia se mudou pra Curitiba" and "na vdd foi
pra Floripa" make "a Julia se mudou pra Floripa".

People correct a note the way they would say it again, keeping a word or two of the old one
("... pra Floripa", "ela mora em Santos", "me deve 80"). Those shared words anchor the
correction: what follows them in the note is what the correction replaces. A correction of one
or two words with nothing in common ("*Curitiba", "Floripa") replaces the word of the note it
most resembles, else the last name-like word. "X, não Y" replaces Y by X. A correction that
shares nothing with the note is the note now.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from rapidfuzz import fuzz

from whatsapp_ai.core.text import fold

# The words that say "this is a correction", never part of it.
_MARKERS = re.compile(
    r"^(?:\s*(?:na vdd|na verdade|quer dizer|digo|corrige|corrigindo|corrigi|errei|me enganei"
    r"|opa|ops|pera|nao|no|nope|actually|i mean|sorry|oops|wait|correction|correcao)"
    r"\b[\s,:;!.-]*)+",
    re.IGNORECASE,
)
# Who the note is about, said again at the start ("ela ...", "the Julia ...").
_SUBJECT = re.compile(r"^(?:ele|ela|eles|elas|he|she|they|it)\b\s*", re.IGNORECASE)
# "X, não Y" / "X, not Y": Y is what was wrong.
_NOT = re.compile(
    r"^(?P<new>.+?)[\s,;]+(?:e\s+)?(?:nao|não|not|instead of|em vez de)\s+(?P<old>.+)$"
)
_TOKEN = re.compile(r"[^\s,;.!?]+|[,;.!?]")
# Close enough to be the same word mistyped (rapidfuzz ratio, 0-100).
_SAME_WORD = 60.0


@dataclass(frozen=True)
class _Token:
    text: str
    start: int
    end: int

    @property
    def key(self) -> str:
        return fold(self.text)

    @property
    def stop(self) -> bool:
        return self.text in ",;.!?"


def _tokens(text: str) -> list[_Token]:
    return [_Token(m.group(), m.start(), m.end()) for m in _TOKEN.finditer(text)]


def correction_words(correction: str, subject: str = "") -> str:
    """The correction without the words that only say it is one ("na vdd", "*", "opa")."""
    said = correction.replace("*", " ").strip()
    said = _MARKERS.sub("", said).strip()
    said = _SUBJECT.sub("", said).strip()
    if subject:
        said = re.sub(
            rf"^(?:(?:o|a|the)\s+)?{re.escape(subject)}\b\s*", "", said, flags=re.IGNORECASE
        )
    return said.strip(" ,.;:!")


def revise(note: str, correction: str, subject: str = "") -> str:
    """The note as the correction makes it (``subject``: the person it is about)."""
    said = correction_words(correction, subject)
    if not said:
        return note
    negated = _NOT.match(fold(said))
    if negated is not None:
        fixed = _replace_old(note, said, negated)
        if fixed is not None:
            return fixed
    fixed = _anchored(note, said)
    if fixed is not None:
        return fixed
    if len(said.split()) <= 2:
        return _one_word(note, said, subject)
    if subject and fold(subject) not in fold(said):
        return f"{subject} {said}"  # "mudou pra Floripa", of Carla: "Carla mudou pra Floripa"
    return said


def _replace_old(note: str, said: str, negated: re.Match[str]) -> str | None:
    """ "gosta de chá, não de café": the note's "de café" becomes "de chá"."""
    old = [t.key for t in _tokens(negated.group("old")) if not t.stop]
    new_count = sum(1 for t in _tokens(negated.group("new")) if not t.stop)
    # Folding keeps the words in order: the correction's own first words are the new ones.
    new = [t.text for t in _tokens(said) if not t.stop][:new_count]
    n = _tokens(note)
    for j in range(len(n) - len(old) + 1):
        if old and new and [t.key for t in n[j : j + len(old)]] == old:
            kept = " ".join(new[-len(old) :])
            return f"{note[: n[j].start]}{kept}{note[n[j + len(old) - 1].end :]}"
    return None


def _anchored(note: str, said: str) -> str | None:
    """Replace what follows the longest run of words the correction shares with the note."""
    n, c = _tokens(note), _tokens(said)
    best: tuple[int, int, int] | None = None  # (length, end in note, end in correction)
    for i in range(len(c)):
        for j in range(len(n)):
            length = 0
            while (
                i + length < len(c)
                and j + length < len(n)
                and c[i + length].key == n[j + length].key
                and not c[i + length].stop
            ):
                length += 1
            weak = all(len(t.key) <= 3 for t in c[i : i + length])
            # "moved to Seattle": a bare "to" or "in" anchors nothing when the words before
            # it are new ("foi pra Floripa" keeps "pra": "foi" says nothing new).
            if weak and any(len(t.key) > 3 for t in c[:i]):
                continue
            if length and i + length < len(c) and (best is None or length >= best[0]):
                best = (length, j + length, i + length)
    if best is None:
        return None
    _, at_note, at_said = best
    after = [t for t in c[at_said:] if not t.stop]
    clause_end = next((k for k in range(at_note, len(n)) if n[k].stop), len(n))
    replaced = n[at_note : min(clause_end, at_note + len(after))] or n[at_note:clause_end]
    if not replaced:
        return f"{note.rstrip()} {said[c[at_said].start :]}"
    begin, end = replaced[0].start, replaced[-1].end
    if at_note + len(after) >= clause_end:
        end = n[clause_end - 1].end  # the correction says the rest of the clause again
    return f"{note[:begin]}{said[c[at_said].start :].rstrip(' ,.;')}{note[end:]}"


def _one_word(note: str, said: str, subject: str) -> str:
    """A word or two: the note's most alike word, else its last name-like one, replaced."""
    words = [t for t in _tokens(note) if not t.stop and fold(t.text) != fold(subject)]
    if not words:
        return said
    scored = max(words, key=lambda t: fuzz.ratio(t.key, fold(said)))
    if fuzz.ratio(scored.key, fold(said)) < _SAME_WORD:
        named = [t for t in words[1:] if t.text[:1].isupper()]
        if not named:
            return said
        scored = named[-1]
    return f"{note[: scored.start]}{said}{note[scored.end :]}"
