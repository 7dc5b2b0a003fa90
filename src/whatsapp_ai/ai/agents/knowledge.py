"""The knowledge agent: answers questions about the business from the tenant's documents,
quoting the passage and citing its source; when the documents don't say, it says so and
offers a person. The offline planner passes the question as it came."""

from __future__ import annotations

import re

from pydantic import BaseModel, ConfigDict, Field

from whatsapp_ai.ai.agents import faq, say
from whatsapp_ai.ai.agents.context import Moment
from whatsapp_ai.ai.agents.offline_model import Plan
from whatsapp_ai.ai.agents.tools import Tool, ToolOutcome, ToolRuntime
from whatsapp_ai.ai.router import get_encoder
from whatsapp_ai.core import i18n
from whatsapp_ai.core.text import fold
from whatsapp_ai.knowledge import service as knowledge
from whatsapp_ai.sales import service as sales

AGENT = "knowledge"
QUESTION_MAX = 500
PASSAGE_MAX = 400
# A question about what something costs (matched folded).
_PRICE = re.compile(
    r"\b(?:quanto|qnto|qto|quant[oa]s? custa|preco|precos|valor|custa|how much|price|cost)\b"
)
PROMPT = (
    "You answer questions about the business (hours, delivery, payment, policies, products) "
    "only from its documents: call search_knowledge with the contact's question, answer from "
    "the passages it returns and name the source it cites. If it finds nothing, say you "
    "don't know and offer to bring in a person from the team. Never answer from memory."
)


class QuestionArgs(BaseModel):
    """A question to look up in the business's documents."""

    model_config = ConfigDict(extra="forbid")

    question: str = Field(min_length=1, max_length=QUESTION_MAX)


def citation(hit: knowledge.Hit, language: str) -> str:
    """ "Fonte: Manual, p. 3" / "Source: Guide (Delivery)"."""
    source = hit.title
    if hit.page is not None:
        source += f", p. {hit.page}"
    elif hit.heading:
        section = hit.heading.removeprefix(f"{hit.title} › ")
        if section and section != hit.title:
            source += f" ({section})"
    return i18n.text(language, "knowledge.source", source=source)


def unknown(language: str) -> str:
    """That the documents don't say, and the offer of a person."""
    return i18n.text(language, "knowledge.not_found")


async def search_knowledge(runtime: ToolRuntime, args: QuestionArgs) -> ToolOutcome:
    ctx = runtime.ctx
    question = " ".join(args.question.split())
    encoder = get_encoder()
    # The encoder runs in a worker thread: the event loop keeps serving other messages.
    [vector] = await encoder.aencode([question])
    async with runtime.db.read() as session:
        hits = await knowledge.search(
            session,
            tenant_id=ctx.tenant_id,
            query_vector=vector,
            query_text=question,
            limit=3,
        )
    found = [hit for hit in hits if knowledge.relevant(hit)]
    if not found:
        second = await _second_look(runtime, question, hits)
        if second is not None:
            return second
        best = round(hits[0].score, 3) if hits else None
        return ToolOutcome(say=unknown(ctx.language), data={"found": False, "best_score": best})
    top = found[0]
    quote = await knowledge.passage(
        top.chunk_text,
        query_vector=vector,
        query_text=question,
        embed=encoder.aencode,
        max_chars=PASSAGE_MAX,
    )
    source = citation(top, ctx.language)
    return ToolOutcome(
        say=f"{quote}\n{source}",
        data={
            "found": True,
            "answer": quote,
            "source": source,
            # The passages themselves, for a hosted model to word the answer from.
            "passages": [
                {
                    "document_id": hit.document_id,
                    "title": hit.title,
                    "page": hit.page,
                    "heading": hit.heading,
                    "score": round(hit.score, 3),
                    "text": hit.chunk_text,
                }
                for hit in found
            ],
        },
    )


async def _second_look(
    runtime: ToolRuntime, question: str, hits: list[knowledge.Hit]
) -> ToolOutcome | None:
    """An informal question the meaning search missed: the FAQ lines its words match, or the
    price of the catalog item it names."""
    ctx = runtime.ctx
    for hit in hits:
        lines = faq.best_lines(question, [hit.chunk_text])
        if lines:
            quote = "\n".join(lines)
            source = citation(hit, ctx.language)
            return ToolOutcome(
                say=f"{quote}\n{source}",
                data={"found": True, "answer": quote, "source": source, "match": "words"},
            )
    if not _PRICE.search(fold(question)):
        return None
    async with runtime.db.read() as session:
        products = await sales.find_products(
            session, tenant_id=ctx.tenant_id, query=question, limit=3
        )
    if not products or len(products) > 3:
        return None
    quote = "\n".join(f"{p.name}: {say.money(p.price, p.currency, ctx.language)}" for p in products)
    return ToolOutcome(say=quote, data={"found": True, "answer": quote, "match": "catalog"})


TOOLS = [
    Tool(
        "search_knowledge",
        AGENT,
        "Look up a question in the business's documents; returns the passage that answers it "
        "and its source, or found=false when the documents don't say.",
        QuestionArgs,
        search_knowledge,
    ),
]


def plan(intent: str, text: str, moment: Moment) -> Plan:
    """Look the question up as the contact wrote it."""
    del intent, moment
    question = " ".join(text.split())[:QUESTION_MAX]
    if not question:
        return Plan(text="")
    return Plan(calls=[("search_knowledge", {"question": question})])
