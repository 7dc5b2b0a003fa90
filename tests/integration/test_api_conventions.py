"""One REST convention everywhere, checked on the OpenAPI document and on the live routes:
every error answer has the one body, every DELETE answers 204, every list pages by cursor."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.conftest import auth

pytestmark = pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
METHODS = ("get", "post", "put", "patch", "delete")
ERROR_REF = "#/components/schemas/ErrorBody"


async def _document(client: httpx.AsyncClient) -> dict[str, Any]:
    response = await client.get("/openapi.json")
    assert response.status_code == 200
    document: dict[str, Any] = response.json()
    return document


def _operations(document: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (path, method, operation)
        for path, item in document["paths"].items()
        for method, operation in item.items()
        if method in METHODS
    ]


def _ok_schema(operation: dict[str, Any]) -> str:
    content = operation.get("responses", {}).get("200", {}).get("content", {})
    return str(content.get("application/json", {}).get("schema", {}).get("$ref", ""))


def _query(operation: dict[str, Any]) -> set[str]:
    return {p["name"] for p in operation.get("parameters", []) if p["in"] == "query"}


async def test_every_error_answer_is_documented_with_the_one_body(
    client: httpx.AsyncClient,
) -> None:
    document = await _document(client)
    wrong = [
        f"{method.upper()} {path} {code}"
        for path, method, operation in _operations(document)
        for code, response in operation.get("responses", {}).items()
        if code[0] in "45"
        and response.get("content", {}).get("application/json", {}).get("schema", {}).get("$ref")
        != ERROR_REF
    ]
    assert wrong == []
    assert "HTTPValidationError" not in document["components"]["schemas"]


async def test_every_delete_answers_204_without_a_body(client: httpx.AsyncClient) -> None:
    document = await _document(client)
    deletes = [(p, o) for p, m, o in _operations(document) if m == "delete"]
    assert deletes, "the API has DELETE routes"
    wrong = [
        path
        for path, operation in deletes
        if "204" not in operation["responses"]
        or "200" in operation["responses"]
        or operation["responses"]["204"].get("content")
    ]
    assert wrong == []


async def test_every_list_is_one_page_shape_with_cursor_and_limit(
    client: httpx.AsyncClient,
) -> None:
    document = await _document(client)
    schemas = document["components"]["schemas"]
    hand_written = [
        name
        for name, schema in schemas.items()
        if "next_cursor" in schema.get("properties", {}) and not name.startswith("Page_")
    ]
    assert hand_written == [], "lists answer Page[T], not their own page classes"
    lists = [
        (path, operation)
        for path, method, operation in _operations(document)
        if method == "get" and _ok_schema(operation).startswith("#/components/schemas/Page_")
    ]
    assert len(lists) >= 10
    wrong = [
        path
        for path, operation in lists
        if not {"cursor", "limit"} <= _query(operation) or "after" in _query(operation)
    ]
    assert wrong == []


async def test_every_list_refuses_a_broken_cursor_on_the_cursor_field(
    client: httpx.AsyncClient, tenant: dict[str, str]
) -> None:
    document = await _document(client)
    checked = []
    for path, method, operation in _operations(document):
        required = [p for p in operation.get("parameters", []) if p.get("required")]
        if method != "get" or "{" in path or required or "cursor" not in _query(operation):
            continue
        response = await client.get(
            path, params={"cursor": "not-a-cursor"}, headers=auth(tenant["key"])
        )
        if response.status_code == 403:  # a platform admin's list
            continue
        assert response.status_code == 422, path
        error = response.json()["error"]
        assert error["code"] == "validation_error", path
        assert [f["field"] for f in error["fields"]] == ["query.cursor"], path
        checked.append(path)
    assert len(checked) >= 8


async def test_a_missing_record_answers_404_with_the_one_body(
    client: httpx.AsyncClient, tenant: dict[str, str]
) -> None:
    document = await _document(client)
    checked = []
    for path, method, operation in _operations(document):
        params = [p for p in operation.get("parameters", []) if p["in"] == "path"]
        if method != "get" or len(params) != 1 or path.startswith("/channels"):
            continue
        concrete = path.replace("{" + params[0]["name"] + "}", "01NOSUCHRECORD0000000000000")
        response = await client.get(concrete, headers=auth(tenant["key"]))
        if response.status_code in (401, 403):
            continue
        assert response.status_code == 404, (path, response.status_code, response.text)
        assert set(response.json()) == {"error"}
        assert response.json()["error"]["code"] == "not_found", path
        checked.append(path)
    assert len(checked) >= 8
