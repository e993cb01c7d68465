"""/docs (Swagger UI over /openapi.json) and the landing page, in headless Chromium with
the internet blocked."""

from playwright.async_api import Browser

from tests.browser.chromium import MARKS, PHONE_WIDTH, document_width, offline_page
from tests.server import Server

pytestmark = MARKS


async def test_rest_docs_show_the_create_session_operation_offline(
    server: Server, browser: Browser
) -> None:
    watched = await offline_page(browser, server.url)
    page = watched.page

    response = await page.goto(f"{server.url}/docs")
    operation = page.locator(".opblock-post").filter(has_text="/v1/sessions")
    await operation.wait_for(timeout=10000)
    method = await operation.locator(".opblock-summary-method").text_content()
    summary = await operation.text_content()

    assert response is not None
    assert "default-src 'self'" in response.headers["content-security-policy"]
    assert method == "POST"
    assert summary is not None
    assert "Create a live session" in summary
    assert watched.blocked == []
    assert watched.errors == []


async def test_landing_page_links_every_page_and_fits_a_phone(
    server: Server, browser: Browser
) -> None:
    watched = await offline_page(browser, server.url, width=PHONE_WIDTH)
    page = watched.page

    await page.goto(f"{server.url}/")
    links = await page.locator("a").evaluate_all("links => links.map(a => a.getAttribute('href'))")
    icon = await page.locator("link[rel=icon]").get_attribute("href")
    favicon = await page.request.get(f"{server.url}{icon}")

    assert {"/graphql", "/docs", "/demo", "/healthz", "/metrics"} <= set(links)
    assert favicon.ok
    assert favicon.headers["content-type"] == "image/svg+xml"
    assert await document_width(page) <= PHONE_WIDTH
    assert watched.blocked == []
    assert watched.errors == []
