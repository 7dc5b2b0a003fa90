"""Knowledge: the tenant's documents cut into passages, searched with the real sentence
encoder, and the agent that answers from them citing the source (or says it doesn't know)."""

from __future__ import annotations

import io
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pypdf
import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError

from tests.conftest import as_app_role, auth, make_settings
from tests.desk_support import sign_in
from whatsapp_ai.ai.agents import knowledge as knowledge_agent
from whatsapp_ai.ai.agents.engine import AGENTS, Agent, AssistantEngine, offline_model
from whatsapp_ai.ai.router import IntentRouter, get_encoder
from whatsapp_ai.ai.service import TurnInput
from whatsapp_ai.app import create_app
from whatsapp_ai.bootstrap import Container, bootstrap
from whatsapp_ai.core.db import tenant_scope
from whatsapp_ai.core.ids import new_id
from whatsapp_ai.identity import service as identity
from whatsapp_ai.knowledge import reading
from whatsapp_ai.knowledge import service as knowledge
from whatsapp_ai.knowledge.errors import (
    InvalidDocumentError,
    TooLargeError,
    UnsupportedTypeError,
)
from whatsapp_ai.knowledge.models import Chunk, Document

NOW = datetime(2026, 11, 25, 15, 0, tzinfo=UTC)

GUIDE_MD = """# Guia da Padaria Pão Quente

Somos uma padaria de bairro em Niterói, com pães de fermentação natural, bolos e salgados \
feitos todos os dias. Veja o cardápio em [nosso site](https://paoquente.example/cardapio).

## Horário de funcionamento

A loja abre de segunda a sexta, das 7h às 20h, e aos sábados das 7h às 13h. Não abrimos aos \
domingos nem nos feriados nacionais. Na véspera de Natal e de Ano-Novo fechamos mais cedo, às 15h.

## Entregas

Entregamos em Niterói e em São Gonçalo. O prazo de entrega é de 1 a 2 dias úteis depois da \
confirmação do pagamento. Pedidos acima de R$ 100 têm **frete grátis**; abaixo disso, o frete \
custa R$ 8. Não fazemos entregas no Rio de Janeiro.

## Pagamento

Aceitamos Pix, cartões de crédito e de débito, vale-refeição e dinheiro. No cartão de crédito, \
parcelamos em até 3 vezes sem juros em compras acima de R$ 150. Não aceitamos cheques.

## Encomendas de bolos

Bolos de aniversário devem ser encomendados com pelo menos 48 horas de antecedência, pelo \
WhatsApp ou na loja. Pedimos um sinal de 50% na encomenda. Os sabores disponíveis são \
chocolate, cenoura, limão, red velvet e prestígio. Bolos com decoração temática precisam de \
5 dias de antecedência e têm um custo adicional de R$ 40.
"""

RETURNS_TXT = """Returns and refunds

You can return any product within 30 days of delivery for a full refund. The item must be
unused and in its original packaging, with the receipt. To start a return, email
returns@paoquente.example with your order number and we will send you a prepaid label.

Refunds are paid to the original payment method within 5 business days after we receive the
item. Return shipping is paid by the customer, unless the product arrived damaged or was not
what you ordered. Perishable food cannot be returned once it leaves the store.

Warranty

Kitchen appliances we sell, such as coffee machines and mixers, carry a 12-month
manufacturer's warranty against defects. The warranty does not cover damage from misuse,
falls or power surges. Keep the invoice: it is required for any warranty claim.
"""

MANUAL_PAGES = [
    [
        "Manual da cafeteira Pão Quente Express",
        "Obrigado por comprar a cafeteira Express.",
        "Leia este manual antes do primeiro uso e guarde-o para consultas.",
    ],
    [
        "Limpeza e manutenção",
        "Descalcifique a cafeteira a cada 3 meses com o descalcificante indicado.",
        "Lave o porta-filtro com água morna depois de cada uso.",
        "Nunca mergulhe a base da cafeteira na água.",
    ],
    [
        "Assistência técnica",
        "Em caso de defeito, leve a cafeteira com a nota fiscal a uma assistência autorizada.",
        "A lista de assistências está no site do fabricante.",
    ],
]

GARAGE_TXT = """Oficina do Zé

Fazemos revisão completa de freios, troca de óleo e alinhamento. A oficina abre de segunda a
sábado, das 8h às 18h. Atendemos só com hora marcada pelo WhatsApp.
"""


def make_pdf(pages: list[list[str]]) -> bytes:
    """A minimal valid PDF, one text line per string (Helvetica, WinAnsi), written by hand."""
    objects: list[bytes] = []

    def add(body: bytes) -> int:
        objects.append(body)
        return len(objects)

    font = add(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>")
    contents = []
    for lines in pages:
        ops = [b"BT /F1 11 Tf 14 TL 72 760 Td"]
        for line in lines:
            escaped = line.encode("cp1252").replace(b"\\", b"\\\\")
            escaped = escaped.replace(b"(", b"\\(").replace(b")", b"\\)")
            ops.append(b"(" + escaped + b") Tj T*")
        ops.append(b"ET")
        stream = b"\n".join(ops)
        contents.append(add(b"<< /Length %d >>\nstream\n%s\nendstream" % (len(stream), stream)))
    tree = len(objects) + len(pages) + 1
    kids = [
        add(
            b"<< /Type /Page /Parent %d 0 R /MediaBox [0 0 612 792]"
            b" /Resources << /Font << /F1 %d 0 R >> >> /Contents %d 0 R >>" % (tree, font, content)
        )
        for content in contents
    ]
    refs = b" ".join(b"%d 0 R" % kid for kid in kids)
    assert add(b"<< /Type /Pages /Kids [%s] /Count %d >>" % (refs, len(kids))) == tree
    catalog = add(b"<< /Type /Catalog /Pages %d 0 R >>" % tree)
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n%s\nendobj\n" % (number, body))
    xref = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1))
    for offset in offsets:
        out.write(b"%010d 00000 n \n" % offset)
    out.write(
        b"trailer\n<< /Size %d /Root %d 0 R >>\nstartxref\n%d\n%%%%EOF\n"
        % (len(objects) + 1, catalog, xref)
    )
    return out.getvalue()


MANUAL_PDF = make_pdf(MANUAL_PAGES)


def embed() -> knowledge.Embed:
    return get_encoder().aencode


async def _add(
    container: Container,
    tenant_id: str,
    data: bytes,
    filename: str,
    content_type: str | None,
    title: str | None = None,
) -> tuple[Document, bool]:
    async with container.db.transaction() as session:
        return await knowledge.add_document(
            session,
            tenant_id=tenant_id,
            title=title,
            filename=filename,
            content_type=content_type,
            data=data,
            now=NOW,
            embed=embed(),
        )


async def _library(container: Container, tenant_id: str) -> dict[str, Document]:
    """The bakery's three documents: a Markdown guide, an English text, a PDF manual."""
    guide, _ = await _add(container, tenant_id, GUIDE_MD.encode(), "guia.md", "text/markdown")
    returns, _ = await _add(
        container,
        tenant_id,
        RETURNS_TXT.encode(),
        "returns.txt",
        "text/plain",
        title="Política de trocas",
    )
    manual, _ = await _add(
        container, tenant_id, MANUAL_PDF, "manual.pdf", "application/pdf", "Manual da cafeteira"
    )
    return {"guide": guide, "returns": returns, "manual": manual}


async def _chunks(container: Container, *where: Any) -> list[Chunk]:
    async with container.db.read() as session:
        return list(await session.scalars(select(Chunk).where(*where).order_by(Chunk.position)))


async def _count(container: Container, model: Any, *where: Any) -> int:
    async with container.db.read() as session:
        return int(await session.scalar(select(func.count()).select_from(model).where(*where)) or 0)


async def _search(
    container: Container, tenant_id: str, question: str, limit: int = 4
) -> list[knowledge.Hit]:
    [vector] = await get_encoder().aencode([question])
    async with container.db.read() as session:
        return await knowledge.search(
            session, tenant_id=tenant_id, query_vector=vector, query_text=question, limit=limit
        )


async def _tenant(container: Container, name: str = "Oficina do Zé") -> tuple[str, str]:
    async with container.db.transaction() as session:
        created = await identity.create_tenant(
            session, name=name, slug=f"t-{new_id().lower()[-10:]}", now=NOW
        )
        _key, secret = await identity.create_api_key(
            session, tenant_id=created.id, name="b", now=NOW
        )
    return created.id, secret


# --- reading and cutting ------------------------------------------------------------------------


def test_content_types_from_the_declared_type_the_extension_and_the_signature() -> None:
    assert reading.content_type_of("text/plain; charset=utf-8", "a.txt") == reading.TEXT
    assert reading.content_type_of("text/plain", "notes.md") == reading.MARKDOWN
    assert reading.content_type_of("text/x-markdown", "notes") == reading.MARKDOWN
    assert reading.content_type_of("application/octet-stream", "a.MD") == reading.MARKDOWN
    assert reading.content_type_of(None, "scan", MANUAL_PDF) == reading.PDF
    assert reading.content_type_of("application/pdf", "m.pdf", MANUAL_PDF) == reading.PDF
    for declared, name in [
        ("image/png", "photo.png"),
        ("application/msword", "a.doc"),
        ("text/html", "a.html"),
        ("application/octet-stream", "a.exe"),
        (None, "no-extension"),
    ]:
        with pytest.raises(UnsupportedTypeError):
            reading.content_type_of(declared, name, b"MZ\x90\x00")
    with pytest.raises(InvalidDocumentError, match="not a PDF"):
        reading.content_type_of("application/pdf", "fake.pdf", b"just text")
    assert reading.clean_filename("C:\\Users\\ana\\guia.md") == "guia.md"
    assert reading.clean_filename("../../etc/passwd") == "passwd"
    assert reading.clean_filename("") == "document"


def test_sentences_respect_abbreviations_and_lines() -> None:
    found = reading.sentences(
        "Fica na Av. Brasil, 100. O Dr. Silva atende às 9h! Veja a p. 3.\n- Pix\n- Cartão"
    )
    assert found == [
        "Fica na Av. Brasil, 100.",
        "O Dr. Silva atende às 9h!",
        "Veja a p. 3.",
        "- Pix",
        "- Cartão",
    ]


def test_long_text_is_cut_between_sentences_into_passages_of_500_to_800() -> None:
    paragraph = " ".join(
        f"Regra {n}: o cliente pode trocar o produto {n} em até {n + 1} dias úteis."
        for n in range(1, 61)
    )
    listing = "\n".join(f"- item {n} da lista de materiais do curso" for n in range(1, 40))
    wrapped = "Este parágrafo foi quebrado em\nlinhas curtas como num e-mail, e\ncontinua aqui."
    source = f"{paragraph}\n\n{listing}\n\n{wrapped}\n\nFim."
    passages, title = reading.read(reading.TEXT, source.encode())
    assert title is None
    sizes = [len(p.text) for p in passages]
    assert max(sizes) <= reading.CHUNK_MAX
    assert all(size >= reading.CHUNK_MIN for size in sizes[:-2]), sizes
    # Cut between sentences and between list items, never inside one.
    paragraphs = [part for p in passages for part in p.text.split("\n\n")]
    regras = [part for part in paragraphs if part.startswith("Regra")]
    assert len(regras) >= 5
    assert all(part.endswith("úteis.") for part in regras)
    items = [p.text for p in passages if p.text.startswith("- item")]
    assert all(line.endswith("curso") for part in items for line in part.split("\n"))
    # Nothing is lost, wrapped lines are joined.
    assert " ".join(p.text for p in passages).split() == source.split()
    assert any(
        "quebrado em linhas curtas como num e-mail, e continua aqui." in p.text for p in passages
    )


def test_markdown_keeps_headings_and_drops_its_syntax() -> None:
    source = (
        "# Receitas da Casa\n\nTexto com **negrito**, *itálico* e `código`. "
        "Mais em <https://casa.example>.\n\n"
        "## Pão de queijo\n\n- 500 g de polvilho\n- 2 ovos\n\n"
        "| Forno | Tempo |\n|---|---|\n| 180 °C | 25 min |\n\n"
        "```\n# isto é código, não um título\n```\n\n"
        "### Dica ###\n\nAsse até dourar.\n\n---\n\n## Bolo\n\nVeja ![foto](bolo.png) o bolo.\n\n"
        "Contato\n-------\n\nLigue para (21) 5555-0000.\n"
    )
    passages, title = reading.read(reading.MARKDOWN, source.encode())
    assert title == "Receitas da Casa"
    assert [p.heading for p in passages] == [
        "Receitas da Casa",
        "Receitas da Casa › Pão de queijo",
        "Receitas da Casa › Pão de queijo › Dica",
        "Receitas da Casa › Bolo",
        "Receitas da Casa › Contato",
    ]
    assert passages[0].text == "Texto com negrito, itálico e código. Mais em https://casa.example."
    assert passages[1].text.startswith("- 500 g de polvilho\n- 2 ovos")
    assert "# isto é código, não um título" in passages[1].text
    assert "---" not in passages[1].text
    assert passages[2].text == "Asse até dourar."
    assert passages[3].text == "Veja foto o bolo."
    assert passages[4].text == "Ligue para (21) 5555-0000."


# --- adding documents ---------------------------------------------------------------------------


async def test_a_text_document_is_cut_encoded_and_stored(
    container: Container, tenant: dict[str, str]
) -> None:
    document, created = await _add(
        container, tenant["id"], RETURNS_TXT.encode(), "docs/returns.txt", "text/plain"
    )
    assert created
    assert (document.title, document.filename, document.content_type) == (
        "returns",
        "returns.txt",
        "text/plain",
    )
    assert (document.status, document.error) == ("ready", None)
    assert document.size == len(RETURNS_TXT.encode())
    assert len(document.sha256) == 64
    chunks = await _chunks(container, Chunk.document_id == document.id)
    assert document.chunk_count == len(chunks) >= 2
    assert [c.position for c in chunks] == list(range(len(chunks)))
    assert all(c.tenant_id == tenant["id"] and c.page is None for c in chunks)
    assert chunks[0].text.startswith("Returns and refunds\n\nYou can return any product")
    # Wrapped lines are joined back into sentences.
    assert "The item must be unused and in its original packaging" in chunks[0].text
    for chunk in chunks:
        vector = np.frombuffer(chunk.embedding, dtype="<f4")
        assert vector.shape == (512,)
        assert abs(float(np.linalg.norm(vector)) - 1.0) < 1e-4


async def test_markdown_headings_are_kept_on_the_chunks(
    container: Container, tenant: dict[str, str]
) -> None:
    document, _ = await _add(container, tenant["id"], GUIDE_MD.encode(), "guia.md", None)
    assert (document.title, document.content_type) == (
        "Guia da Padaria Pão Quente",
        "text/markdown",
    )
    chunks = await _chunks(container, Chunk.document_id == document.id)
    assert [c.heading for c in chunks] == [
        "Guia da Padaria Pão Quente",
        "Guia da Padaria Pão Quente › Horário de funcionamento",
        "Guia da Padaria Pão Quente › Entregas",
        "Guia da Padaria Pão Quente › Pagamento",
        "Guia da Padaria Pão Quente › Encomendas de bolos",
    ]
    assert "nosso site (https://paoquente.example/cardapio)" in chunks[0].text
    assert "têm frete grátis;" in chunks[2].text
    assert "*" not in "".join(c.text for c in chunks)


async def test_a_pdf_is_read_page_by_page(container: Container, tenant: dict[str, str]) -> None:
    # The hand-written PDF is a real one: pypdf reads its text back.
    reader = pypdf.PdfReader(io.BytesIO(MANUAL_PDF), strict=True)
    assert len(reader.pages) == 3
    assert "Descalcifique a cafeteira a cada 3 meses" in reader.pages[1].extract_text()
    document, _ = await _add(
        container, tenant["id"], MANUAL_PDF, "manual-cafeteira.pdf", "application/pdf"
    )
    assert (document.title, document.status, document.chunk_count) == (
        "manual-cafeteira",
        "ready",
        3,
    )
    chunks = await _chunks(container, Chunk.document_id == document.id)
    assert [c.page for c in chunks] == [1, 2, 3]
    assert chunks[1].text.startswith("Limpeza e manutenção\nDescalcifique a cafeteira a cada 3")
    assert "Nunca mergulhe a base da cafeteira na água." in chunks[1].text


async def test_a_pdf_without_text_is_kept_as_failed_with_the_reason(
    container: Container, tenant: dict[str, str]
) -> None:
    blank = make_pdf([[], []])
    assert all(not page.extract_text() for page in pypdf.PdfReader(io.BytesIO(blank)).pages)
    document, created = await _add(container, tenant["id"], blank, "scan.pdf", "application/pdf")
    assert created
    assert (document.status, document.chunk_count) == ("failed", 0)
    assert document.error is not None
    assert "no text could be extracted" in document.error
    again, created = await _add(container, tenant["id"], blank, "scan.pdf", "application/pdf")
    assert (again.id, created) == (document.id, False)
    broken, _ = await _add(
        container, tenant["id"], b"%PDF-1.7\n1 0 obj\n<< /Type /Catalog", "x.pdf", "application/pdf"
    )
    assert broken.status == "failed"
    assert broken.error
    assert await _count(container, Chunk) == 0


async def test_the_same_file_again_is_the_same_document(
    container: Container, tenant: dict[str, str]
) -> None:
    first, created = await _add(container, tenant["id"], GUIDE_MD.encode(), "guia.md", None)
    assert created
    again, created = await _add(
        container, tenant["id"], GUIDE_MD.encode(), "outro-nome.md", None, title="Outro título"
    )
    assert not created
    assert (again.id, again.title) == (first.id, "Guia da Padaria Pão Quente")
    assert await _count(container, Document) == 1
    assert await _count(container, Chunk) == first.chunk_count
    # A concurrent upload that read and encoded the file too stores nothing new.
    prepared = await knowledge.prepare(
        title=None, filename="guia.md", content_type=None, data=GUIDE_MD.encode(), embed=embed()
    )
    async with container.db.transaction() as session:
        stored, created = await knowledge.store(
            session, tenant_id=tenant["id"], prepared=prepared, now=NOW
        )
    assert (stored.id, created) == (first.id, False)
    assert await _count(container, Chunk) == first.chunk_count


async def test_refusals_are_clear_and_store_nothing(
    container: Container, tenant: dict[str, str]
) -> None:
    refused: list[tuple[bytes, str, str | None, dict[str, Any], type[Exception], str]] = [
        (b"\x89PNG\r\n", "foto.png", "image/png", {}, UnsupportedTypeError, "unsupported file"),
        (b"a" * (knowledge.MAX_BYTES + 1), "big.txt", "text/plain", {}, TooLargeError, "10 MB"),
        (b"", "empty.txt", "text/plain", {}, InvalidDocumentError, "empty"),
        (b"  \n\n \t\n", "blank.md", "text/markdown", {}, InvalidDocumentError, "empty"),
        (b"# Only a title\n", "t.md", "text/markdown", {}, InvalidDocumentError, "no text"),
        ("Olá".encode("utf-16"), "u16.txt", "text/plain", {}, InvalidDocumentError, "UTF-8"),
        (b"ol\xe1 mundo", "latin1.txt", "text/plain", {}, InvalidDocumentError, "UTF-8"),
        (b"abc\x00def", "bin.txt", "text/plain", {}, InvalidDocumentError, "binary"),
        (b"hello", "fake.pdf", "application/pdf", {}, InvalidDocumentError, "not a PDF"),
        (b"ok", "ok.txt", "text/plain", {"title": "x" * 201}, InvalidDocumentError, "title"),
    ]
    for data, name, content_type, extra, error, message in refused:
        with pytest.raises(error, match=message):
            await _add(container, tenant["id"], data, name, content_type, **extra)
    # Too much text for one document (caught before any encoding).
    many = "\n\n".join(f"Parágrafo {n}. " + "palavra " * 90 for n in range(2100))
    with pytest.raises(InvalidDocumentError, match="too much text") as raised:
        await _add(container, tenant["id"], many.encode(), "many.txt", "text/plain")
    assert raised.value.field == "file"
    assert await _count(container, Document) == 0


# --- search ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("question", "document", "where"),
    [
        ("qual o horário de funcionamento no sábado?", "guide", "Horário de funcionamento"),
        ("vocês entregam em Niterói?", "guide", "Entregas"),
        ("o frete é grátis?", "guide", "Entregas"),
        ("aceitam cheque?", "guide", "Pagamento"),
        ("preciso encomendar bolo com antecedência?", "guide", "Encomendas de bolos"),
        ("what is your return policy?", "returns", "Returns and refunds"),
        # Portuguese over the English document, English over the Portuguese one.
        ("como faço para devolver um produto?", "returns", "Returns and refunds"),
        ("do you accept credit cards?", "guide", "Pagamento"),
        ("de quanto em quanto tempo devo descalcificar a cafeteira?", "manual", "page 2"),
        ("how often should I descale the coffee machine?", "manual", "page 2"),
    ],
)
async def test_search_ranks_the_passage_that_answers(
    container: Container, tenant: dict[str, str], question: str, document: str, where: str
) -> None:
    library = await _library(container, tenant["id"])
    hits = await _search(container, tenant["id"], question)
    best = hits[0]
    assert best.document_id == library[document].id, (question, best)
    if where.startswith("page "):
        assert best.page == int(where.split()[1])
    elif best.heading is not None:
        assert best.heading.endswith(where)
    else:
        assert best.chunk_text.startswith(where)
    assert best.score >= knowledge.MIN_SCORE
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)
    assert best.score - hits[1].score > 0.05  # a clear winner, not a coin toss


async def test_unrelated_questions_stay_under_the_threshold(
    container: Container, tenant: dict[str, str]
) -> None:
    await _library(container, tenant["id"])
    for question in [
        "vocês têm estacionamento?",
        "qual a capital da França?",
        "do you have parking?",
        "are you hiring?",
        "tem wifi?",
    ]:
        hits = await _search(container, tenant["id"], question)
        assert hits[0].score < knowledge.MIN_SCORE, (question, hits[0])


async def test_search_never_reaches_another_tenants_documents(
    container: Container, tenant: dict[str, str]
) -> None:
    library = await _library(container, tenant["id"])
    other, _ = await _tenant(container)
    # Before tenant B has any document its search finds nothing at all.
    assert await _search(container, other, "vocês entregam em Niterói?") == []
    garage, _ = await _add(container, other, GARAGE_TXT.encode(), "oficina.txt", "text/plain")
    # The same file as A's is B's own document.
    same, created = await _add(container, other, GUIDE_MD.encode(), "guia.md", None)
    assert created
    assert same.id != library["guide"].id
    mine = {garage.id, same.id}
    for question in [
        "vocês entregam em Niterói?",
        "how often should I descale the coffee machine?",
    ]:
        hits = await _search(container, other, question, limit=20)
        assert hits
        assert {hit.document_id for hit in hits} <= mine
    async with container.db.read() as session:
        assert (
            await knowledge.get_document(session, tenant_id=other, document_id=library["manual"].id)
            is None
        )
        assert (
            await knowledge.list_chunks(session, tenant_id=other, document_id=library["manual"].id)
            == []
        )
    async with container.db.transaction() as session:
        assert (
            await knowledge.delete_document(
                session, tenant_id=other, document_id=library["manual"].id
            )
            is None
        )
    assert await _count(container, Chunk, Chunk.document_id == library["manual"].id) == 3


async def test_delete_removes_the_document_and_its_chunks(
    container: Container, tenant: dict[str, str]
) -> None:
    library = await _library(container, tenant["id"])
    guide = library["guide"]
    async with container.db.transaction() as session:
        removed = await knowledge.delete_document(
            session, tenant_id=tenant["id"], document_id=guide.id
        )
    assert removed is not None
    assert removed.id == guide.id
    assert await _count(container, Chunk, Chunk.document_id == guide.id) == 0
    assert await _count(container, Document) == 2
    hits = await _search(container, tenant["id"], "vocês entregam em Niterói?", limit=20)
    assert guide.id not in {hit.document_id for hit in hits}
    async with container.db.read() as session:
        listed = await knowledge.list_documents(
            session, tenant_id=tenant["id"], cursor=None, limit=50
        )
    assert [d.id for d in listed.items] == [library["returns"].id, library["manual"].id]
    # Uploaded again after deletion, it is a new document.
    back, created = await _add(container, tenant["id"], GUIDE_MD.encode(), "guia.md", None)
    assert created
    assert back.id != guide.id


async def test_passage_quotes_the_sentences_that_answer() -> None:
    chunk = (
        "Entregamos em Niterói e em São Gonçalo. O prazo de entrega é de 1 a 2 dias úteis depois "
        "da confirmação do pagamento. Pedidos acima de R$ 100 têm frete grátis; abaixo disso, o "
        "frete custa R$ 8. Não fazemos entregas no Rio de Janeiro."
    )
    question = "o frete é grátis?"
    [vector] = await get_encoder().aencode([question])
    quote = await knowledge.passage(
        chunk, query_vector=vector, query_text=question, embed=embed(), max_chars=140
    )
    assert quote == (
        "Pedidos acima de R$ 100 têm frete grátis; abaixo disso, o frete custa R$ 8. "
        "Não fazemos entregas no Rio de Janeiro."
    )
    # A section that fits is quoted whole: every day's hours, not the line most like the
    # question.
    whole = await knowledge.passage(
        chunk, query_vector=vector, query_text=question, embed=embed(), max_chars=400
    )
    assert whole == chunk
    assert knowledge.trim("uma frase longa demais para caber", 20) == "uma frase longa…"


@pytest.mark.parametrize("backend", ["postgres"], indirect=True)
async def test_row_level_security_hides_other_tenants_documents(
    db_url: str, tmp_path: Path, container: Container, tenant: dict[str, str]
) -> None:
    await _add(container, tenant["id"], GARAGE_TXT.encode(), "oficina.txt", "text/plain")
    other, _ = await _tenant(container)
    app = bootstrap(make_settings(as_app_role(db_url), tmp_path / "app"))
    try:
        for scope, expected in ((tenant["id"], 1), (other, 0)):
            with tenant_scope(scope):
                async with app.db.read() as session:
                    documents = await session.scalar(
                        text("SELECT count(*) FROM knowledge_documents")
                    )
                    chunks = await session.scalar(text("SELECT count(*) FROM knowledge_chunks"))
            assert (documents, chunks) == (expected, expected), scope
        with tenant_scope(other), pytest.raises(DBAPIError, match="row-level security"):
            async with app.db.transaction() as session:
                await session.execute(
                    text(
                        "INSERT INTO knowledge_documents (id, tenant_id, title, filename,"
                        " content_type, size, sha256, status, chunk_count, created_at, updated_at)"
                        " VALUES (:id, :tenant, 't', 'f', 'text/plain', 1, 'x', 'ready', 0,"
                        " now(), now())"
                    ),
                    {"id": new_id(), "tenant": tenant["id"]},
                )
    finally:
        await app.close()


# --- the agent --------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def router() -> IntentRouter:
    built = IntentRouter()
    built.warm()
    return built


def _engine(container: Container, router: IntentRouter) -> AssistantEngine:
    agent = Agent(
        knowledge_agent.AGENT, knowledge_agent.PROMPT, knowledge_agent.TOOLS, knowledge_agent.plan
    )
    agents = {**AGENTS, knowledge_agent.AGENT: agent}
    return AssistantEngine(
        db=container.db, router=router, model=offline_model(agents), agents=agents
    )


async def _ask(
    container: Container,
    router: IntentRouter,
    tenant_id: str,
    text: str,
    language: str | None = None,
) -> Any:
    async with container.db.transaction() as session:
        contact = await identity.get_or_create_contact(
            session, tenant_id=tenant_id, address="+5511999990001", profile_name="Ana", now=NOW
        )
    turn = TurnInput(
        tenant_id=tenant_id,
        tenant_name="Padaria Pão Quente",
        contact_id=contact.id,
        contact_name="Ana",
        conversation_id="conv-1",
        text=text,
        message_id=f"m-{new_id()}",
        now=NOW,
        contact_timezone="America/Sao_Paulo",
        contact_language=language,
    )
    return await _engine(container, router).reply(turn)


def _tool_result(reply: Any) -> dict[str, Any]:
    assert reply.trace is not None
    [call] = reply.trace["tools"]
    assert call["tool"] == "search_knowledge"
    result: dict[str, Any] = json.loads(call["result"])
    return result


async def test_the_agent_answers_with_the_passage_and_its_source(
    container: Container, tenant: dict[str, str], router: IntentRouter
) -> None:
    await _library(container, tenant["id"])
    reply = await _ask(container, router, tenant["id"], "vocês entregam em Niterói?")
    assert reply.text.startswith("Entregamos em Niterói e em São Gonçalo.")
    assert reply.text.endswith("\nFonte: Guia da Padaria Pão Quente (Entregas)")
    assert len(reply.text.split("\nFonte:")[0]) <= knowledge_agent.PASSAGE_MAX
    assert reply.trace["clauses"][0]["intent"] == "knowledge.question"
    result = _tool_result(reply)
    assert result["data"]["found"] is True
    assert result["data"]["passages"][0]["title"] == "Guia da Padaria Pão Quente"

    manual = await _ask(
        container, router, tenant["id"], "de quanto em quanto tempo devo descalcificar a cafeteira?"
    )
    assert manual.text == (
        "Descalcifique a cafeteira a cada 3 meses com o descalcificante indicado. "
        "Lave o porta-filtro com água morna depois de cada uso. "
        "Nunca mergulhe a base da cafeteira na água.\n"
        "Fonte: Manual da cafeteira, p. 2"
    )

    english = await _ask(container, router, tenant["id"], "what is your return policy?", "en")
    assert english.text.startswith("You can return any product within 30 days of delivery")
    assert english.text.endswith("\nSource: Política de trocas")


async def test_the_agent_says_it_does_not_know_and_offers_a_person(
    container: Container, tenant: dict[str, str], router: IntentRouter
) -> None:
    await _library(container, tenant["id"])
    reply = await _ask(container, router, tenant["id"], "vocês têm estacionamento?")
    assert reply.text == (
        "Não encontrei isso nos nossos documentos. Quer que eu chame uma pessoa da equipe?"
    )
    assert _tool_result(reply)["data"]["found"] is False
    english = await _ask(container, router, tenant["id"], "do you have parking?", "en")
    assert english.text == (
        "I couldn't find that in our documents. Would you like me to bring in someone from the "
        "team?"
    )
    # A tenant without documents: the same, never another tenant's answer.
    other, _ = await _tenant(container)
    empty = await _ask(container, router, other, "vocês entregam em Niterói?")
    assert empty.text.startswith("Não encontrei isso nos nossos documentos.")
    assert _tool_result(empty)["data"] == {"found": False, "best_score": None}


# --- HTTP -------------------------------------------------------------------------------------


def _upload(
    data: bytes, name: str, content_type: str = "text/plain", title: str | None = None
) -> dict[str, Any]:
    form: dict[str, Any] = {"files": {"file": (name, data, content_type)}}
    if title is not None:
        form["data"] = {"title": title}
    return form


async def test_api_upload_list_read_search_and_delete(
    client: httpx.AsyncClient, tenant: dict[str, str]
) -> None:
    headers = auth(tenant["key"])
    created = await client.post(
        "/knowledge/documents",
        headers=headers,
        **_upload(GUIDE_MD.encode(), "guia.md", "text/markdown", title="Guia da loja"),
    )
    assert created.status_code == 201, created.text
    document = created.json()
    assert (document["title"], document["status"], document["chunk_count"]) == (
        "Guia da loja",
        "ready",
        5,
    )
    assert document["content_type"] == "text/markdown"
    again = await client.post(
        "/knowledge/documents", headers=headers, **_upload(GUIDE_MD.encode(), "copia.md")
    )
    assert again.status_code == 200
    assert again.json() == document
    pdf = await client.post(
        "/knowledge/documents",
        headers=headers,
        **_upload(MANUAL_PDF, "manual.pdf", "application/octet-stream"),
    )
    assert pdf.status_code == 201, pdf.text
    assert (pdf.json()["content_type"], pdf.json()["title"]) == ("application/pdf", "manual")
    blank = await client.post(
        "/knowledge/documents",
        headers=headers,
        **_upload(make_pdf([[]]), "scan.pdf", "application/pdf"),
    )
    assert blank.status_code == 201
    assert blank.json()["status"] == "failed"
    assert "no text could be extracted" in blank.json()["error"]

    listed = await client.get("/knowledge/documents", params={"limit": 2}, headers=headers)
    assert listed.status_code == 200
    assert [d["id"] for d in listed.json()["items"]] == [document["id"], pdf.json()["id"]]
    rest = await client.get(
        "/knowledge/documents", params={"cursor": listed.json()["next_cursor"]}, headers=headers
    )
    assert [d["id"] for d in rest.json()["items"]] == [blank.json()["id"]]
    assert rest.json()["next_cursor"] is None

    url = f"/knowledge/documents/{document['id']}"
    detail = (await client.get(url, headers=headers)).json()
    assert [c["heading"] for c in detail["chunks"]][1] == (
        "Guia da Padaria Pão Quente › Horário de funcionamento"
    )
    assert "embedding" not in detail["chunks"][0]

    found = await client.get(
        "/knowledge/search", params={"q": "vocês entregam em Niterói?"}, headers=headers
    )
    assert found.status_code == 200, found.text
    body = found.json()
    assert body["answered"] is True
    assert body["answer"].startswith("Entregamos em Niterói e em São Gonçalo.")
    assert body["hits"][0]["document_id"] == document["id"]
    assert body["hits"][0]["heading"].endswith("Entregas")
    assert body["hits"][0]["score"] >= body["min_score"]
    unknown = await client.get(
        "/knowledge/search", params={"q": "vocês têm estacionamento?"}, headers=headers
    )
    assert (unknown.json()["answered"], unknown.json()["answer"]) == (False, None)

    removed = await client.delete(url, headers=headers)
    assert removed.status_code == 204
    assert removed.content == b""
    assert (await client.get(url, headers=headers)).status_code == 404
    assert (await client.delete(url, headers=headers)).status_code == 404
    after = await client.get(
        "/knowledge/search", params={"q": "vocês entregam em Niterói?"}, headers=headers
    )
    assert document["id"] not in {hit["document_id"] for hit in after.json()["hits"]}


async def test_api_refusals(client: httpx.AsyncClient, tenant: dict[str, str]) -> None:
    headers = auth(tenant["key"])
    png = await client.post(
        "/knowledge/documents", headers=headers, **_upload(b"\x89PNG\r\n", "a.png", "image/png")
    )
    assert png.status_code == 415
    assert "text/plain" in png.json()["error"]["message"]
    for data, name, field in [
        (b"   ", "empty.txt", "body.file"),
        (b"ol\xe1", "latin1.txt", "body.file"),
        (b"ok", "ok.txt", "body.title"),
    ]:
        title = "x" * 201 if field == "body.title" else None
        response = await client.post(
            "/knowledge/documents", headers=headers, **_upload(data, name, title=title)
        )
        assert response.status_code == 422, (name, response.text)
        assert [f["field"] for f in response.json()["error"]["fields"]] == [field]
    missing = await client.post("/knowledge/documents", headers=headers, data={"title": "x"})
    assert missing.status_code == 422
    for params in ({"q": ""}, {}, {"q": "x" * 501}, {"q": "ok", "limit": 0}):
        assert (
            await client.get("/knowledge/search", params=params, headers=headers)
        ).status_code == 422
    blank = await client.get("/knowledge/search", params={"q": "   "}, headers=headers)
    assert blank.status_code == 422
    # The platform's upload cap (11 MiB by default) answers before the file is read.
    big = await client.post(
        "/knowledge/documents", headers=headers, **_upload(b"a" * (12 * 1024 * 1024), "big.txt")
    )
    assert big.status_code == 413
    listed = await client.get("/knowledge/documents", headers=headers)
    assert listed.json() == {"items": [], "next_cursor": None}


@pytest.fixture
async def roomy_client(db_url: str, tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    """A client on an app that accepts request bodies up to 12 MiB (for 10 MB uploads)."""
    built = bootstrap(make_settings(db_url, tmp_path / "roomy", app={"max_body_bytes": 12 << 20}))
    transport = httpx.ASGITransport(app=create_app(built))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        yield http
    await built.close()


async def test_api_refuses_files_over_10_mb(
    roomy_client: httpx.AsyncClient, tenant: dict[str, str]
) -> None:
    headers = auth(tenant["key"])
    over = await roomy_client.post(
        "/knowledge/documents",
        headers=headers,
        **_upload(b"a" * (knowledge.MAX_BYTES + 1), "big.txt"),
    )
    assert over.status_code == 413
    assert over.json()["error"]["message"] == "the file is over 10 MB"
    # Within the size, a file with too much text to search is refused by name.
    text_ = "\n\n".join(f"Parágrafo {n}. " + "palavra " * 90 for n in range(2100))
    many = await roomy_client.post(
        "/knowledge/documents", headers=headers, **_upload(text_.encode(), "many.txt")
    )
    assert many.status_code == 422
    assert "too much text" in many.json()["error"]["message"]


async def test_api_never_shows_or_touches_another_tenants_documents(
    container: Container, client: httpx.AsyncClient, tenant: dict[str, str]
) -> None:
    library = await _library(container, tenant["id"])
    _other, attacker_key = await _tenant(container)
    attacker = auth(attacker_key)
    url = f"/knowledge/documents/{library['guide'].id}"
    calls = [await client.get(url, headers=attacker), await client.delete(url, headers=attacker)]
    assert [call.status_code for call in calls] == [404, 404]
    listed = await client.get("/knowledge/documents", headers=attacker)
    assert listed.json() == {"items": [], "next_cursor": None}
    searched = await client.get(
        "/knowledge/search", params={"q": "vocês entregam em Niterói?"}, headers=attacker
    )
    assert searched.json()["hits"] == []
    for response in [*calls, listed, searched]:
        assert "São Gonçalo" not in response.text
        assert "Pão Quente" not in response.text
        assert library["guide"].id not in response.text
    assert await _count(container, Chunk, Chunk.document_id == library["guide"].id) == 5


async def test_api_permissions(
    container: Container, client: httpx.AsyncClient, tenant: dict[str, str]
) -> None:
    async with container.db.transaction() as session:
        _k, reader = await identity.create_api_key(
            session, tenant_id=tenant["id"], name="reader", scopes=["knowledge:read"], now=NOW
        )
        _k, other_scope = await identity.create_api_key(
            session, tenant_id=tenant["id"], name="chat", scopes=["conversations:*"], now=NOW
        )
        _k, writer = await identity.create_api_key(
            session, tenant_id=tenant["id"], name="writer", scopes=["knowledge:*"], now=NOW
        )
    document, _ = await _add(container, tenant["id"], GARAGE_TXT.encode(), "oficina.txt", None)
    url = f"/knowledge/documents/{document.id}"

    async def statuses(headers: dict[str, str], name: str) -> list[int]:
        upload = _upload(f"Documento {name}.".encode(), f"{name}.txt")
        return [
            (await client.get("/knowledge/documents", headers=headers)).status_code,
            (await client.get(url, headers=headers)).status_code,
            (
                await client.get("/knowledge/search", params={"q": "oi"}, headers=headers)
            ).status_code,
            (await client.post("/knowledge/documents", headers=headers, **upload)).status_code,
            (await client.delete(url, headers=headers)).status_code,
        ]

    assert await statuses(auth(reader), "reader") == [200, 200, 200, 403, 403]
    assert await statuses(auth(other_scope), "chat") == [403, 403, 403, 403, 403]
    operator = await sign_in(container, client, tenant["id"], "Olga Operadora", "operator")
    assert await statuses(operator.headers, "operator") == [200, 200, 200, 403, 403]
    member = await sign_in(container, client, tenant["id"], "Mário Membro", "member")
    assert await statuses(member.headers, "member") == [403, 403, 403, 403, 403]
    assert await _count(container, Document) == 1
    assert await statuses(auth(writer), "writer") == [200, 200, 200, 201, 204]
    granted = await client.post(
        "/identity/api-keys",
        json={"name": "bot", "scopes": ["knowledge:read", "knowledge:write"]},
        headers=auth(tenant["key"]),
    )
    assert granted.status_code == 201, granted.text
