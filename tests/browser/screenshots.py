"""Screenshots of the pages for docs/screenshots: `scripts/screenshots [DIR]`.

Starts a server on a throwaway SQLite database, fills it with a few sessions, and takes
each page at desktop width and at 390 px in Debian's Chromium, offline like the tests.
"""

import asyncio
import json
import sys
import tempfile
from pathlib import Path

import httpx
from playwright.async_api import Browser, Page

from tests.browser.chromium import PHONE_WIDTH, chromium, offline_page
from tests.helpers import SECRET, auth, create, graphql, register, token
from tests.server import running_server

VIEWER = "member-viewer"
BRAND = "brand-1"
SIZES = {"desktop": (1280, 800), "390px": (PHONE_WIDTH, 844)}


async def seed(client: httpx.AsyncClient) -> None:
    """Sessions in every state the demo shows."""
    live = await create(
        client, title="Morning mobility", scheduledAt="2030-06-01T07:30:00Z", maxParticipants=20
    )
    await graphql(client, "mutation($id: ID!) { startSession(id: $id) { id } }", {"id": live["id"]})
    for member in ("member-a", "member-b", "member-c", VIEWER):
        await register(client, live["id"], member)
    queue = await create(
        client,
        title="Strength for runners",
        scheduledAt="2030-06-02T18:00:00Z",
        maxParticipants=2,
        waitlistEnabled=True,
    )
    for member in ("member-a", "member-b", "member-c", VIEWER):
        await register(client, queue["id"], member)
    closed = await create(
        client, title="Office hours: nutrition", kind="OFFICE_HOURS", maxParticipants=1
    )
    await register(client, closed["id"], "member-a")
    await create(client, title="Evening yoga", scheduledAt="2030-06-03T19:00:00Z")


async def playground(page: Page, base_url: str) -> None:
    await page.goto(f"{base_url}/graphql")
    await page.wait_for_selector(".graphiql-container")
    editor = page.locator(".graphiql-editor-tool .graphiql-editor:not(.hidden) .CodeMirror")
    if await editor.is_visible():
        await editor.click()
        await page.keyboard.press("Control+A")
        await page.keyboard.insert_text(json.dumps({"Authorization": f"Bearer {token()}"}))
        await page.click(".graphiql-execute-button")
        await page.locator(".result-window").get_by_text("totalCount").wait_for()


async def rest_docs(page: Page, base_url: str) -> None:
    await page.goto(f"{base_url}/docs")
    await page.locator(".opblock-post .opblock-summary").click()
    await page.locator(".opblock-post .opblock-body").wait_for()


async def landing(page: Page, base_url: str) -> None:
    await page.goto(f"{base_url}/")


async def demo(page: Page, base_url: str) -> None:
    await page.goto(f"{base_url}/demo")
    await page.fill("#token", token(VIEWER))
    await page.fill("#brand", BRAND)
    await page.click("button[type=submit]")
    await page.get_by_text("Live: counts update").wait_for()


PAGES = {"landing": landing, "playground": playground, "rest-docs": rest_docs, "demo": demo}


async def take(browser: Browser, base_url: str, out: Path) -> list[Path]:
    taken = []
    for name, show in PAGES.items():
        for size, (width, height) in SIZES.items():
            watched = await offline_page(browser, base_url, width=width, height=height)
            await show(watched.page, base_url)
            await watched.page.wait_for_timeout(500)  # let the last flash of a change fade
            path = out / f"{name}-{size}.png"
            await watched.page.screenshot(path=str(path))
            await watched.page.close()
            if watched.blocked or watched.errors:
                raise RuntimeError(f"{name} at {size}: {watched.blocked or watched.errors}")
            taken.append(path)
    return taken


async def main(out: Path) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        env = {"DATABASE_URL": f"sqlite+aiosqlite:///{Path(tmp) / 'demo.db'}"}
        with running_server(Path(tmp), {**env, "AUTH_JWT_SECRET": SECRET}) as server:
            async with httpx.AsyncClient(base_url=server.url, headers=auth()) as client:
                await seed(client)
            async with chromium() as browser:
                for path in await take(browser, server.url, out):
                    print(path)


if __name__ == "__main__":
    directory = Path(sys.argv[1] if len(sys.argv) > 1 else "docs/screenshots")
    directory.mkdir(parents=True, exist_ok=True)
    asyncio.run(main(directory))
