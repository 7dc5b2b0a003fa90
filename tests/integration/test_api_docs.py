"""The API docs work offline: every script, style sheet and icon they load is served by the app."""

from __future__ import annotations

import re

import httpx
import pytest

REFERENCE = re.compile(r"""(?:src|href|spec-url)=["']([^"']+)["']""")


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
@pytest.mark.parametrize(("page", "script"), [("/docs", "swagger-ui"), ("/redoc", "redoc")])
async def test_docs_pages_load_nothing_from_a_cdn(
    client: httpx.AsyncClient, page: str, script: str
) -> None:
    response = await client.get(page)
    assert response.status_code == 200
    html = response.text
    assert re.findall(r"https?://[^\s\"'<>]+", html) == []
    references = REFERENCE.findall(html)
    assert any(script in ref and ref.endswith(".js") for ref in references), references
    for ref in references:
        asset = await client.get(ref)
        assert asset.status_code == 200, ref
        assert asset.content, ref
    if page == "/docs":
        assert "/openapi.json" in html
        assert '"validatorUrl": null' in html  # the spec's URL is not sent to a public validator


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
async def test_docs_assets_have_their_types(client: httpx.AsyncClient) -> None:
    script = await client.get("/docs-assets/swagger-ui-bundle.js")
    assert "javascript" in script.headers["content-type"]
    style = await client.get("/docs-assets/swagger-ui.css")
    assert style.headers["content-type"].startswith("text/css")
    assert (await client.get("/openapi.json")).status_code == 200
    assert (await client.get("/docs/oauth2-redirect")).status_code == 200
