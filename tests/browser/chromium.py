"""Headless Chromium for the browser tests and scripts/screenshots: Debian's, at
/usr/bin/chromium, driven by Playwright (which never downloads a browser here).

Every request to anything but the server under test is aborted: the pages must work
with no internet.
"""

import shutil
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

import pytest
from playwright.async_api import Browser, Page, Route, async_playwright

CHROMIUM = "/usr/bin/chromium"
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
MARKS = [
    pytest.mark.slow,
    pytest.mark.skipif(
        shutil.which(CHROMIUM) is None,
        reason="needs /usr/bin/chromium: run scripts/bootstrap --browser (.ci/run does)",
    ),
]
PHONE_WIDTH = 390


@asynccontextmanager
async def chromium() -> AsyncIterator[Browser]:
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            await browser.close()


@dataclass
class OfflinePage:
    """A page that may reach only the server: what it tried beyond, what it logged."""

    page: Page
    blocked: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


async def offline_page(
    browser: Browser, base_url: str, *, width: int = 1280, height: int = 800
) -> OfflinePage:
    page = await browser.new_page(viewport={"width": width, "height": height})
    watched = OfflinePage(page)

    async def only_the_server(route: Route) -> None:
        url = route.request.url
        if url.startswith((base_url, "data:")):
            await route.continue_()
        else:
            watched.blocked.append(url)
            await route.abort()

    await page.route("**/*", only_the_server)
    page.on(
        "console",
        lambda message: watched.errors.append(message.text) if message.type == "error" else None,
    )
    return watched


async def document_width(page: Page) -> int:
    """The document's full width in CSS pixels: wider than the viewport means it scrolls."""
    width: int = await page.evaluate("document.documentElement.scrollWidth")
    return width
