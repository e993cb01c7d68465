"""The playground and the demo page in headless Chromium (Debian's, driven by Playwright).

Every request to anything but the server under test is aborted: the pages must work
with no internet. Playwright never downloads a browser here: it drives /usr/bin/chromium.
"""

import json
import os
import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from playwright.async_api import Browser, Page, Route, async_playwright

from tests.helpers import auth, token, valid_body
from tests.server import Server

CHROMIUM = "/usr/bin/chromium"
# DEMO_SCREENSHOT=docs/demo.png refreshes the README's picture.
SCREENSHOT = os.environ.get("DEMO_SCREENSHOT")
# As the machine's notes advise: no background traffic to hosts this machine cannot reach.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        shutil.which(CHROMIUM) is None,
        reason="needs /usr/bin/chromium: run scripts/bootstrap --browser (.ci/run does)",
    ),
]


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    async with async_playwright() as playwright:
        chromium = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        await chromium.close()


async def offline_page(browser: Browser, server: Server) -> tuple[Page, list[str], list[str]]:
    """A page that may reach only the server; returns it, what was blocked, console errors."""
    page = await browser.new_page()
    blocked: list[str] = []
    errors: list[str] = []

    async def only_the_server(route: Route) -> None:
        if route.request.url.startswith(server.url) or route.request.url.startswith("data:"):
            await route.continue_()
        else:
            blocked.append(route.request.url)
            await route.abort()

    await page.route("**/*", only_the_server)
    page.on(
        "console", lambda message: errors.append(message.text) if message.type == "error" else None
    )
    return page, blocked, errors


async def test_playground_runs_a_query_with_the_internet_blocked(
    server: Server, browser: Browser
) -> None:
    async with httpx.AsyncClient(base_url=server.url) as client:
        await client.post("/v1/sessions", json=valid_body(title="Offline yoga"), headers=auth())
    page, blocked, errors = await offline_page(browser, server)
    headers = json.dumps({"Authorization": f"Bearer {token()}"})
    query = "query Offline { sessions(first: 5) { edges { node { title } } } }"
    await page.add_init_script(
        f"localStorage.setItem('graphiql:headers', {json.dumps(headers)});"
        f"localStorage.setItem('graphiql:query', {json.dumps(query)});"
    )

    response = await page.goto(f"{server.url}/graphql")
    await page.wait_for_selector(".graphiql-container")
    await page.click(".graphiql-execute-button")
    result = page.locator(".result-window")
    await result.get_by_text("Offline yoga").wait_for(timeout=5000)

    assert response is not None
    csp = response.headers["content-security-policy"]
    assert "default-src 'self'" in csp
    assert "connect-src 'self'" in csp
    assert blocked == []
    assert errors == []


async def test_playground_runs_a_subscription_over_websocket(
    server: Server, browser: Browser
) -> None:
    async with httpx.AsyncClient(base_url=server.url) as client:
        created = await client.post("/v1/sessions", json=valid_body(), headers=auth())
        session_id = created.json()["id"]
        page, blocked, errors = await offline_page(browser, server)
        headers = json.dumps({"Authorization": f"Bearer {token('watcher')}"})
        query = (
            f'subscription {{ sessionUpdated(id: "{session_id}") {{ registeredCount version }} }}'
        )
        await page.add_init_script(
            f"localStorage.setItem('graphiql:headers', {json.dumps(headers)});"
            f"localStorage.setItem('graphiql:query', {json.dumps(query)});"
        )
        await page.goto(f"{server.url}/graphql")
        await page.wait_for_selector(".graphiql-container")
        await page.click(".graphiql-execute-button")
        result = page.locator(".result-window")
        await result.get_by_text('"version": 1').wait_for(timeout=5000)

        await client.post(
            "/graphql",
            json={
                "query": "mutation($id: ID!) { registerForSession(sessionId: $id) { id } }",
                "variables": {"id": session_id},
            },
            headers=auth("member-a"),
        )
        await result.get_by_text('"version": 2').wait_for(timeout=2000)
        text = await result.text_content()

    assert text is not None
    assert '"registeredCount": 1' in text
    assert blocked == []
    assert errors == []


async def test_demo_page_count_changes_when_someone_else_registers(
    server: Server, browser: Browser, tmp_path: Path
) -> None:
    async with httpx.AsyncClient(base_url=server.url) as client:
        created = await client.post(
            "/v1/sessions",
            json=valid_body(
                title="Live mobility",
                brand_id="brand-demo",
                max_participants=12,
                scheduled_at="2031-03-01T09:00:00Z",
            ),
            headers=auth(),
        )
        session_id = created.json()["id"]
        page, blocked, errors = await offline_page(browser, server)
        await page.set_viewport_size({"width": 1000, "height": 420})
        await page.goto(f"{server.url}/demo")
        await page.fill("#token", token("member-viewer"))
        await page.fill("#brand", "brand-demo")
        await page.click("button[type=submit]")
        seats = page.locator(f"#s-{session_id} .seats")
        await seats.filter(has_text="0 / 12").wait_for(timeout=5000)
        await page.get_by_text("Live: counts update").wait_for(timeout=5000)

        for member in ("member-a", "member-b"):
            await client.post(
                "/graphql",
                json={
                    "query": "mutation($id: ID!) { registerForSession(sessionId: $id) { id } }",
                    "variables": {"id": session_id},
                },
                headers=auth(member),
            )
        await seats.filter(has_text="2 / 12").wait_for(timeout=2000)

        await page.click(f"#s-{session_id} .action button")  # the viewer registers too
        await seats.filter(has_text="3 / 12").wait_for(timeout=2000)
        await page.screenshot(path=SCREENSHOT or str(tmp_path / "demo.png"))

    assert blocked == []
    assert errors == []
    assert await page.locator(f"#s-{session_id} .place").text_content() == "registered"
