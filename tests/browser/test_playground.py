"""The GraphiQL playground at /graphql, in headless Chromium with the internet blocked."""

import json
from typing import Any

import httpx
from playwright.async_api import Browser, Page

from tests.browser.chromium import MARKS, OfflinePage, offline_page
from tests.helpers import auth, token, valid_body
from tests.server import Server

pytestmark = MARKS

PLACEHOLDER = "Bearer <token from: live-sessions token --sub host-1>"


def tab(
    query: str, headers: dict[str, str], variables: dict[str, Any] | None = None
) -> dict[str, Any]:
    """A GraphiQL tab as GraphiQL stores it, for a page that should open on it."""
    return {
        "id": query,
        "title": "test",
        "query": query,
        "variables": json.dumps(variables or {}),
        "headers": json.dumps(headers),
        "operationName": None,
        "response": None,
    }


async def open_with_tabs(page: Page, server: Server, *tabs: dict[str, Any]) -> None:
    # GraphiQL opens the stored tab whose contents match the stored editors, so both are set.
    stored = {
        "graphiql:tabState": json.dumps({"tabs": list(tabs), "activeTabIndex": 0}),
        "graphiql:query": tabs[0]["query"],
        "graphiql:variables": tabs[0]["variables"],
        "graphiql:headers": tabs[0]["headers"],
    }
    await page.add_init_script(
        "".join(
            f"localStorage.setItem({json.dumps(k)}, {json.dumps(v)});" for k, v in stored.items()
        )
    )
    await page.goto(f"{server.url}/graphql")
    await page.wait_for_selector(".graphiql-container")


async def page_after_creating(browser: Browser, server: Server, title: str) -> OfflinePage:
    """An offline page on a server that has one session called `title`."""
    async with httpx.AsyncClient(base_url=server.url) as client:
        await client.post("/v1/sessions", json=valid_body(title=title), headers=auth())
    return await offline_page(browser, server.url)


async def run(page: Page) -> None:
    await page.click(".graphiql-execute-button")


async def test_playground_opens_with_the_schema_and_examples_and_no_error_without_a_token(
    server: Server, browser: Browser
) -> None:
    watched = await offline_page(browser, server.url)
    page = watched.page
    api_calls: list[str] = []
    page.on("request", lambda r: api_calls.append(r.method) if r.url.endswith("/graphql") else None)

    await page.goto(f"{server.url}/graphql")
    await page.wait_for_selector(".graphiql-container")
    # The explorer plugin is open and lists the root fields: the schema is loaded.
    await page.locator(".graphiql-explorer-root").get_by_text("sessions").first.wait_for()
    await page.get_by_label("Show Documentation Explorer").click()
    docs = page.locator(".graphiql-doc-explorer")
    await docs.get_by_text("Query", exact=True).click()
    await docs.get_by_text("Session", exact=True).first.wait_for(timeout=5000)
    tabs = await page.locator(".graphiql-tab").all_text_contents()
    headers = await page.locator(".graphiql-editor-tool").text_content()
    response = await page.locator(".result-window .CodeMirror-code").text_content()

    assert [name.replace("close icon", "") for name in tabs] == [
        "ListSessions",
        "CreateSession",
        "Register",
        "FollowSession",
    ]
    assert headers is not None
    assert "live-sessions token --sub host-1" in headers
    assert (response or "").strip("\u200b ") == ""
    # Only the page itself: no introspection request, so nothing to fail without a token.
    assert api_calls == ["GET"]
    assert watched.blocked == []
    assert watched.errors == []


async def test_playground_without_a_token_says_how_to_get_one(
    server: Server, browser: Browser
) -> None:
    watched = await offline_page(browser, server.url)
    page = watched.page
    await page.goto(f"{server.url}/graphql")
    await page.wait_for_selector(".graphiql-container")

    await run(page)

    await page.locator(".result-window").get_by_text("No token yet").wait_for(timeout=5000)
    text = await page.locator(".result-window").text_content()
    assert text is not None
    assert "live-sessions token --sub host-1" in text
    assert watched.blocked == []


async def test_playground_runs_the_list_example_once_a_token_is_pasted(
    server: Server, browser: Browser
) -> None:
    watched = await page_after_creating(browser, server, "Offline yoga")
    page = watched.page
    response = await page.goto(f"{server.url}/graphql")
    await page.wait_for_selector(".graphiql-container")

    await page.locator(".graphiql-editor-tool .graphiql-editor:not(.hidden) .CodeMirror").click()
    await page.keyboard.press("Control+A")
    await page.keyboard.insert_text(json.dumps({"Authorization": f"Bearer {token()}"}))
    await run(page)

    await page.locator(".result-window").get_by_text("Offline yoga").wait_for(timeout=5000)
    assert response is not None
    csp = response.headers["content-security-policy"]
    assert "default-src 'self'" in csp
    assert "connect-src 'self'" in csp
    assert watched.blocked == []
    assert watched.errors == []


async def test_a_tab_still_holding_the_placeholder_borrows_the_token_of_another(
    server: Server, browser: Browser
) -> None:
    watched = await page_after_creating(browser, server, "Borrowed")
    page = watched.page
    await open_with_tabs(
        page,
        server,
        # Anonymous: GraphiQL may send a tab's operation name for a moment after switching.
        tab("{ sessions { totalCount } }", {"Authorization": f"Bearer {token()}"}),
        tab("{ sessions { edges { node { title } } } }", {"Authorization": PLACEHOLDER}),
    )
    await run(page)
    await page.locator(".result-window").get_by_text('"totalCount": 1').wait_for(timeout=5000)

    await page.locator(".graphiql-tab").nth(1).click()
    await run(page)

    await page.locator(".result-window").get_by_text("Borrowed").wait_for(timeout=5000)
    assert watched.errors == []


async def test_playground_runs_a_subscription_over_websocket(
    server: Server, browser: Browser
) -> None:
    async with httpx.AsyncClient(base_url=server.url) as client:
        created = await client.post("/v1/sessions", json=valid_body(), headers=auth())
        session_id = created.json()["id"]
        watched = await offline_page(browser, server.url)
        page = watched.page
        await open_with_tabs(
            page,
            server,
            tab(
                "subscription Follow($id: ID!) { sessionUpdated(id: $id) { registeredCount version } }",
                {"Authorization": f"Bearer {token('watcher')}"},
                {"id": session_id},
            ),
        )
        await run(page)
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
    assert watched.blocked == []
    assert watched.errors == []
