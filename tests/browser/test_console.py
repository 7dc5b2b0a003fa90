"""The operator console in a real browser: Debian's Chromium driven by Playwright against
`whatsapp-ai run` on 127.0.0.1 (sign-in, filters, a live message, take over and reply, and
another tenant seeing none of it)."""

from __future__ import annotations

import os
import re
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

from tests.e2e.test_processes import CLI, ROOT, _env, _free_port, _wait_ready

pytestmark = pytest.mark.e2e

CHROMIUM = Path("/usr/bin/chromium")
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]
OPERATOR = ("ana@lojademo.com.br", "operator-password-1")
OTHER = ("bia@outraloja.com.br", "other-password-12")
CONTACT = "+5511999990001"
LIVE_MS = 10_000


@dataclass(frozen=True)
class Platform:
    url: str
    key: str


@pytest.fixture
def platform(db_url: str, tmp_path: Path) -> Iterator[Platform]:
    """The seeded demo tenant with an operator, a second tenant, and the platform running."""
    env = _env(db_url, tmp_path)
    # This checkout's code, ahead of any other install of the package.
    env["PYTHONPATH"] = os.pathsep.join(
        p for p in (str(ROOT / "src"), str(ROOT), os.environ.get("PYTHONPATH", "")) if p
    )

    def cli(*args: str, stdin: str | None = None) -> None:
        done = subprocess.run(
            [CLI, *args],
            env=env,
            cwd=tmp_path,
            input=stdin,
            capture_output=True,
            text=True,
            timeout=90,
        )
        assert done.returncode == 0, done.stderr

    cli("seed")
    cli(
        "users",
        "create",
        "--email",
        OPERATOR[0],
        "--name",
        "Ana",
        "--role",
        "operator",
        "--tenant",
        "demo",
        "--password-stdin",
        stdin=OPERATOR[1] + "\n",
    )
    port = _free_port()
    log = (tmp_path / "server.log").open("wb")
    proc = subprocess.Popen(
        [CLI, "run", "--port", str(port)], env=env, cwd=tmp_path, stdout=log, stderr=log
    )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_ready(url, proc, timeout=60)
        registered = httpx.post(
            f"{url}/identity/register",
            json={
                "business_name": "Other Shop",
                "email": OTHER[0],
                "name": "Bia",
                "password": OTHER[1],
            },
            timeout=30,
        )
        assert registered.status_code in (200, 201), registered.text
        key = (tmp_path / "data" / "demo-api-key").read_text().strip()
        # Handoffs wait in the queue, so the operator takes them from the console.
        policy = httpx.patch(
            f"{url}/conversation-policy",
            json={"auto_assign": False},
            headers={"Authorization": f"Bearer {key}"},
            timeout=30,
        )
        assert policy.status_code == 200, policy.text
        yield Platform(url=url, key=key)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        finally:
            proc.kill()
            log.close()


@pytest.fixture
def browser() -> Iterator[Browser]:
    """Headless Debian Chromium; a missing browser fails the test (it is installed by .ci/run)."""
    assert CHROMIUM.exists(), "install Debian's chromium (apt-get install chromium)"
    with sync_playwright() as pw:
        launched = pw.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=ARGS)
        try:
            yield launched
        finally:
            launched.close()


def _sign_in(browser: Browser, url: str, who: tuple[str, str]) -> Page:
    page = browser.new_context(locale="en-US").new_page()
    page.goto(f"{url}/console/login")
    page.get_by_label("E-mail").fill(who[0])
    page.get_by_label("Password").fill(who[1])
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Inbox")).to_be_visible()
    return page


def _send(platform: Platform, text: str) -> None:
    sent = httpx.post(
        f"{platform.url}/channels/sandbox/messages",
        json={"sender": CONTACT, "text": text, "profile_name": "Carla Souza"},
        headers={"Authorization": f"Bearer {platform.key}"},
        timeout=30,
    )
    assert sent.status_code == 202, sent.text


def _outbox(platform: Platform) -> list[str]:
    got = httpx.get(
        f"{platform.url}/channels/sandbox/outbox",
        params={"to": CONTACT, "limit": 200},
        headers={"Authorization": f"Bearer {platform.key}"},
        timeout=30,
    )
    assert got.status_code == 200, got.text
    return [item["body"] for item in got.json()["items"]]


def test_operator_signs_in_sees_a_handoff_live_takes_it_and_replies(
    platform: Platform, browser: Browser, tmp_path: Path
) -> None:
    shots = tmp_path / "screenshots"
    shots.mkdir()

    # A wrong password is refused in the reader's language, and nothing opens.
    page = browser.new_context(locale="pt-BR").new_page()
    page.goto(f"{platform.url}/console/login")
    page.get_by_label("E-mail").fill(OPERATOR[0])
    page.get_by_label("Senha").fill("not-the-password")
    page.get_by_role("button", name="Entrar").click()
    expect(page.get_by_role("alert")).to_have_text("E-mail ou senha incorretos.")
    page.goto(f"{platform.url}/console/inbox")
    expect(page).to_have_url(re.compile(r"/console/login$"))

    page = _sign_in(browser, platform.url, OPERATOR)
    page.get_by_role("link", name="Needs a human").click()
    expect(page.get_by_text("No conversations here.")).to_be_visible()
    expect(page.locator("body[data-live=on]")).to_have_count(1, timeout=LIVE_MS)
    page.screenshot(path=str(shots / "inbox-empty.png"))

    # A contact asks for a person: the conversation shows up without a reload.
    _send(platform, "quero falar com um atendente")
    row = page.locator("li.row", has_text="Carla Souza")
    expect(row).to_be_visible(timeout=LIVE_MS)
    expect(row.locator(".status")).to_have_text("Waiting for a person")
    expect(row.locator(".unread")).to_have_text("1")
    page.screenshot(path=str(shots / "inbox-live.png"))

    # Filters and search.
    page.get_by_role("link", name="Closed").click()
    expect(page.get_by_text("No conversations here.")).to_be_visible()
    page.get_by_role("link", name="Open").click()
    expect(row).to_be_visible()
    page.get_by_label("Search by name, phone or text").fill("99990001")
    page.get_by_role("button", name="Search").click()
    expect(row).to_be_visible()
    page.get_by_label("Search by name, phone or text").fill("nobody-like-this")
    page.get_by_role("button", name="Search").click()
    expect(row).to_have_count(0)
    page.get_by_role("link", name="Mine").click()
    expect(row).to_have_count(0)

    # Take it over and answer: the reply leaves through the sandbox channel.
    page.get_by_role("link", name="Needs a human").click()
    row.get_by_role("link").click()
    expect(page.get_by_text("quero falar com um atendente")).to_be_visible()
    conversation_url = page.url
    page.get_by_role("button", name="Take over").click()
    expect(page.locator("p .status")).to_have_text("With a person")
    page.get_by_label("Reply to the contact").fill("Olá Carla, aqui é a Ana. Como posso ajudar?")
    page.get_by_role("button", name="Send").click()
    expect(page.locator(".message.operator")).to_contain_text("aqui é a Ana")
    page.screenshot(path=str(shots / "conversation.png"))
    deadline_ok = False
    for _ in range(100):
        if any("aqui é a Ana" in body for body in _outbox(platform)):
            deadline_ok = True
            break
        page.wait_for_timeout(200)
    assert deadline_ok, _outbox(platform)

    # The contact's next message appears live in the open conversation.
    _send(platform, "preciso trocar meu pedido")
    expect(page.get_by_text("preciso trocar meu pedido")).to_be_visible(timeout=LIVE_MS)
    page.goto(f"{platform.url}/console/inbox?view=mine")
    expect(row).to_be_visible()

    # Another tenant's admin sees none of it, not even by its address.
    other = _sign_in(browser, platform.url, OTHER)
    for view in ("Needs a human", "Open", "Closed"):
        other.get_by_role("link", name=view).click()
        expect(other.get_by_text("No conversations here.")).to_be_visible()
    answer = other.goto(conversation_url)
    assert answer is not None
    assert answer.status == 404
    expect(other.get_by_role("heading", name="Conversation not found.")).to_be_visible()
    other.screenshot(path=str(shots / "other-tenant.png"))
