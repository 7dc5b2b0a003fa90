"""Control characters in any text the API receives are a 422 naming the field, on SQLite and
PostgreSQL alike (where NUL cannot even be stored); free text keeps its new lines and tabs."""

from __future__ import annotations

from typing import Any

import httpx
from fastapi import FastAPI
from fastapi.routing import APIRoute
from pydantic import BaseModel

from tests.conftest import auth
from whatsapp_ai.app import create_app
from whatsapp_ai.bootstrap import Container
from whatsapp_ai.core.inputs import Input


def _routes(routes: list[Any]) -> list[APIRoute]:
    found: list[APIRoute] = []
    for route in routes:
        if isinstance(route, APIRoute):
            found.append(route)
        elif hasattr(route, "original_router"):
            found += _routes(route.original_router.routes)
        elif hasattr(route, "routes"):
            found += _routes(route.routes)
    return found


def test_every_request_body_is_an_input(container: Container) -> None:
    app: FastAPI = create_app(container)
    bodies = {
        route.body_field.field_info.annotation
        for route in _routes(app.routes)
        if route.body_field is not None
        and isinstance(route.body_field.field_info.annotation, type)
        and issubclass(route.body_field.field_info.annotation, BaseModel)
    }
    assert len(bodies) >= 20, bodies
    # Multipart forms are FastAPI's own models: each text field carries the same check.
    forms = {body for body in bodies if body.__name__.startswith("Body_")}
    assert sorted(b.__name__ for b in bodies - forms if not issubclass(b, Input)) == []
    for form in forms:
        for name, info in form.model_fields.items():
            if "str" in str(info.annotation) and "UploadFile" not in str(info.annotation):
                assert "check_text" in str(info.annotation), (form.__name__, name)


def _fields(response: httpx.Response) -> list[str]:
    assert response.status_code == 422, response.text
    return [field["field"] for field in response.json()["error"]["fields"]]


async def test_nul_in_a_product_name_is_refused_and_nothing_stored(
    client: httpx.AsyncClient, tenant: dict[str, str]
) -> None:
    headers = auth(tenant["key"])
    refused = await client.post(
        "/sales/products", json={"name": "Bolo\x00 de fubá", "price": "10.00"}, headers=headers
    )
    assert _fields(refused) == ["body.name"]
    assert "U+0000" in refused.text
    listed = await client.get("/sales/products", headers=headers)
    assert listed.json()["items"] == []


async def test_free_text_keeps_new_lines_and_names_do_not(
    client: httpx.AsyncClient, tenant: dict[str, str]
) -> None:
    headers = auth(tenant["key"])
    made = await client.post(
        "/sales/products",
        json={"name": "Bolo", "price": "10.00", "description": "Fubá\n\tcom goiabada"},
        headers=headers,
    )
    assert made.status_code == 201, made.text
    assert made.json()["description"] == "Fubá\n\tcom goiabada"
    product = made.json()["id"]
    for change, field in (
        ({"name": "Bolo\nnovo"}, "body.name"),
        ({"description": "bell\x07"}, "body.description"),
        ({"sku": "A\x1bB"}, "body.sku"),
    ):
        response = await client.patch(f"/sales/products/{product}", json=change, headers=headers)
        assert _fields(response) == [field], change


async def test_other_bodies_query_and_path_follow_the_same_rule(
    client: httpx.AsyncClient, tenant: dict[str, str]
) -> None:
    headers = auth(tenant["key"])
    cases = [
        ("post", "/identity/api-keys", {"name": "bot\x00", "scopes": ["*"]}, "body.name"),
        ("post", "/identity/api-keys", {"name": "bot", "scopes": ["*\x00"]}, "body.scopes"),
        ("patch", "/assistant/settings", {"assistant_name": "Ana\x00"}, "body.assistant_name"),
        (
            "post",
            "/channels/sandbox/messages",
            {"from": "+5511999990001", "text": "oi\x00"},
            "body.text",
        ),
        (
            "post",
            "/finance/entries",
            {
                "contact_id": "x",
                "kind": "expense",
                "amount": "5.00",
                "category": "groceries",
                "note": "a\x00",
            },
            "body.note",
        ),
    ]
    for method, path, body, field in cases:
        response = await client.request(method, path, json=body, headers=headers)
        assert _fields(response) == [field], (path, response.text)

    searched = await client.get("/conversations", params={"q": "oi\x00"}, headers=headers)
    assert _fields(searched) == ["query.q"]
    by_path = await client.get("/conversations/ab%00cd", headers=headers)
    assert _fields(by_path) == ["path.conversation_id"]
    fine = await client.get("/conversations", params={"q": "pão de queijo"}, headers=headers)
    assert fine.status_code == 200, fine.text
