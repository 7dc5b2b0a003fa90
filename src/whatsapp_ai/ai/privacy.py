"""Recognizing a contact's request to erase their data, and its confirmation (PT and EN)."""

from __future__ import annotations

import re

from whatsapp_ai.core.text import fold

_REQUEST = re.compile(
    r"\b(apag\w*|exclu\w*|delet\w*|remov\w*|elimin\w*)\b.{0,30}\b(meus dados|minhas informacoes"
    r"|meu cadastro|tudo sobre mim)\b"
    r"|\b(esquec\w*)\b.{0,20}\b(de mim|me|meus dados)\b"
    r"|\b(delete|erase|remove|wipe)\b.{0,20}"
    r"\b(my data|my information|my account|everything about me)\b"
    r"|\bforget (about )?me\b"
)
_CONFIRM = frozenset({"apagar", "sim apagar", "sim, apagar", "delete", "yes delete", "yes, delete"})


def asks_for_erasure(text: str) -> bool:
    """Whether the message asks to delete everything held about the sender."""
    return bool(_REQUEST.search(fold(text)))


def confirms_erasure(text: str) -> bool:
    """Whether the message is the explicit confirmation word (nothing else counts)."""
    return fold(text).strip(" .!") in _CONFIRM
