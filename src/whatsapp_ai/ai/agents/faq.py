"""The knowledge agent's second look: when the meaning of a short, informal question ("vcs
abrem segunda?", "onde fica a loja?") is not close enough to any passage, the lines of the
nearest passages are matched by their words (accents, case and endings aside), with the
everyday words people use for the usual topics of a business's FAQ."""

from __future__ import annotations

import re
from collections.abc import Sequence

from whatsapp_ai.core.text import fold

# Words that say nothing about the topic (matched folded).
_STOP_WORDS = """
a o as os um uma uns umas de da do das dos em no na nos nas por pra pro para com sem e ou
que q qual quais quanto qnto qto quando como onde se ja vc vcs voce voces tu eu me meu minha
seu sua tem tenho ter ta esta sao eh ser fazem faz fazer posso pode podem gostaria queria
quero sim nao aqui ai la isso esse essa the an is are does you your we our i my can to of
in on at for it this that there have has with what when where how which any
"""
_STOP = frozenset(_STOP_WORDS.split())
# Everyday words → the FAQ's words for the topic (folded stems are compared).
_TOPICS: dict[str, tuple[str, ...]] = {
    "endereco address localizacao local rua avenida": (
        "onde", "fica", "ficam", "endereco", "localizacao", "where", "located", "address",
        "chegar", "loja", "location",
    ),
    "horario hours atendimento funcionamento aberto": (
        "abre", "abrem", "aberto", "aberta", "fecha", "fecham", "horario", "horarios", "funciona",
        "funcionam", "open", "opens", "close", "closes", "hours", "hora",
    ),
    "pagamento payment pix cartao card": (
        "aceita", "aceitam", "pagar", "pago", "pagamento", "parcela", "parcelar", "parcelado",
        "pay", "accept", "accepts", "card", "cartao", "credito", "debito",
    ),
    "convenios convenio insurance plano": (
        "convenio", "convenios", "plano", "planos", "atendem", "insurance", "take", "cover",
    ),
    "entrega delivery frete taxa": (
        "entrega", "entregam", "entregar", "delivery", "deliver", "frete", "envio", "manda",
        "mandam",
    ),
    "cancelamento cancel remarcacao reschedule": (
        "cancelar", "cancela", "cancelamento", "desmarcar", "remarcar", "cancel", "reschedule",
    ),
    "reembolso refund devolucao returns estorno": (
        "reembolso", "devolver", "devolucao", "troca", "trocar", "refund", "return", "returns",
        "estorno",
    ),
}  # fmt: skip
_WORD = re.compile(r"[a-z0-9]+")
_STEM = 5


def _stems(text: str) -> set[str]:
    return {w[:_STEM] for w in _WORD.findall(fold(text)) if w not in _STOP and len(w) > 2}


def _question_stems(question: str) -> tuple[set[str], set[str]]:
    """The question's own word stems, and the stems of the topics its everyday words name."""
    own = _stems(question)
    topics: set[str] = set()
    words = set(_WORD.findall(fold(question)))
    for topic, cues in _TOPICS.items():
        if words & set(cues):
            topics |= {w[:_STEM] for w in topic.split()}
    return own, topics


def _lines(passages: Sequence[str]) -> list[str]:
    found: list[str] = []
    for passage in passages:
        for line in passage.splitlines():
            line = line.strip()
            if len(line) > 3 and not line.startswith("#") and line not in found:
                found.append(line)
    return found


def best_lines(question: str, passages: Sequence[str], most: int = 2) -> list[str]:
    """The lines of ``passages`` that answer ``question`` by their words, best first."""
    own, topics = _question_stems(question)
    if not own:
        return []
    scored: list[tuple[float, int, str]] = []
    for index, line in enumerate(_lines(passages)):
        stems = _stems(line)
        # The line's label ("Horário:", "Endereço:") names its topic.
        label = _stems(line.split(":", 1)[0]) if ":" in line else set()
        score = len(own & stems) + 0.75 * len(topics & label) + 0.25 * len(topics & stems)
        if score >= 1:
            scored.append((score, index, line))
    if not scored:
        return []
    scored.sort(key=lambda item: (-item[0], item[1]))
    top = scored[0][0]
    return [line for score, _, line in scored[:most] if score >= top - 0.25]
