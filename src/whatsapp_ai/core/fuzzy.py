"""Closest spelling: what a typed word most likely meant among a few known names ("brigadero" →
"brigadeiro", "Fernada" → "Fernanda"), for when the exact words find nothing.

The scorer is rapidfuzz's ``WRatio`` (a blend of whole, partial and word-order-free similarity).
The cutoff and margin were chosen on tests/unit/extract/labelled_matching.py (see the README).
"""

from __future__ import annotations

from collections.abc import Sequence

from rapidfuzz import fuzz, process

# Under this score (0-100) nothing is close enough to be what was meant.
CUTOFF = 70.0
# Texts scoring within this of the best are equally likely: the caller asks which.
MARGIN = 5.0


def closest(
    query: str, texts: Sequence[str], *, cutoff: float = CUTOFF, margin: float = MARGIN
) -> list[int]:
    """Indexes of the texts closest to ``query`` (both already folded), best first: one when
    it stands out, several when they score within ``margin``, none under ``cutoff``."""
    if not query.strip() or not texts:
        return []
    scored = process.extract(
        query, list(texts), scorer=fuzz.WRatio, score_cutoff=cutoff, limit=None
    )
    if not scored:
        return []
    best = scored[0][1]
    return [index for _, score, index in scored if best - score <= margin]
