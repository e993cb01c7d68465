"""The /demo page in headless Chromium with the internet blocked: a brand's sessions with
their status, seats and the viewer's place, kept live through restarts."""

from pathlib import Path
from typing import Any

import httpx
from playwright.async_api import Browser, Locator

from tests.browser.chromium import MARKS, PHONE_WIDTH, OfflinePage, document_width, offline_page
from tests.helpers import create, register, token
from tests.server import Server, running_server, server_env

pytestmark = MARKS

BRAND = "brand-demo"
LIVE = "Live: counts update as people register."


async def open_demo(
    browser: Browser, base_url: str, viewer_token: str, *, width: int = 1000
) -> OfflinePage:
    """The demo page showing BRAND's sessions to the viewer, subscribed to them."""
    watched = await offline_page(browser, base_url, width=width, height=600)
    page = watched.page
    await page.goto(f"{base_url}/demo")
    await page.fill("#token", viewer_token)
    await page.fill("#brand", BRAND)
    await page.click("button[type=submit]")
    await page.get_by_text(LIVE).wait_for(timeout=10000)
    return watched


async def session(client: httpx.AsyncClient, **overrides: Any) -> str:
    created = await create(client, brandId=BRAND, scheduledAt="2031-03-01T09:00:00Z", **overrides)
    return str(created["id"])


def cell(watched: OfflinePage, session_id: str, name: str) -> Locator:
    return watched.page.locator(f"#s-{session_id} .{name}")


async def test_demo_shows_status_seats_and_place_as_people_register(
    server: Server, browser: Browser
) -> None:
    async with httpx.AsyncClient(base_url=server.url) as client:
        session_id = await session(client, title="Live mobility", maxParticipants=12)
        watched = await open_demo(browser, server.url, token("member-viewer"))
        seats = cell(watched, session_id, "seats")
        await seats.filter(has_text="12 of 12 left").wait_for()
        assert await cell(watched, session_id, "status").text_content() == "Scheduled"
        assert await cell(watched, session_id, "place").text_content() == "not registered"

        for member in ("member-a", "member-b"):
            await register(client, session_id, member)
        await seats.filter(has_text="10 of 12 left").wait_for(timeout=2000)

        await cell(watched, session_id, "action").get_by_role("button", name="Register").click()
        await seats.filter(has_text="9 of 12 left").wait_for(timeout=2000)

    assert await cell(watched, session_id, "place").text_content() == "registered"
    assert await cell(watched, session_id, "action").get_by_role("button").text_content() == (
        "Unregister"
    )
    assert watched.blocked == []
    assert watched.errors == []


async def test_demo_offers_the_waitlist_only_when_a_full_session_has_one(
    server: Server, browser: Browser
) -> None:
    async with httpx.AsyncClient(base_url=server.url) as client:
        with_waitlist = await session(
            client, title="Queue", maxParticipants=1, waitlistEnabled=True
        )
        without = await session(client, title="No queue", maxParticipants=1)
        for session_id in (with_waitlist, without):
            await register(client, session_id, "member-a")
        await register(client, with_waitlist, "member-b")  # first in line
        watched = await open_demo(browser, server.url, token("member-viewer"))
        join = cell(watched, with_waitlist, "action").get_by_role("button", name="Join waitlist")

        await join.click()
        await cell(watched, with_waitlist, "place").filter(has_text="waitlisted").wait_for()

        assert await cell(watched, with_waitlist, "place").text_content() == (
            "waitlisted, #2 in line"
        )
        assert await cell(watched, with_waitlist, "seats").text_content() == "Full, 2 waiting"
        assert await cell(watched, with_waitlist, "action").get_by_role(
            "button"
        ).text_content() == ("Leave waitlist")
        assert await cell(watched, without, "seats").text_content() == "Full"
        assert await cell(watched, without, "action").get_by_role("button").count() == 0
        assert watched.errors == []


async def test_demo_shows_a_refused_registration_next_to_its_row(
    server: Server, browser: Browser
) -> None:
    async with httpx.AsyncClient(base_url=server.url) as client:
        refused = await session(client, title="Refused")
        other = await session(client, title="Other")
    # A token that may read but not register.
    watched = await open_demo(browser, server.url, token("member-viewer", scopes=()))

    await cell(watched, refused, "action").get_by_role("button", name="Register").click()
    error = cell(watched, refused, "error")
    await error.filter(has_text="registrations:write").wait_for(timeout=5000)

    assert await watched.page.locator("#status").text_content() == LIVE
    assert await cell(watched, other, "error").text_content() == ""
    assert await cell(watched, refused, "place").text_content() == "not registered"


async def test_demo_reconnects_after_a_server_restart_and_shows_new_changes(
    database_settings: dict[str, Any], browser: Browser, tmp_path: Path
) -> None:
    env = server_env(database_settings)
    with running_server(tmp_path, env) as first:
        async with httpx.AsyncClient(base_url=first.url) as client:
            session_id = await session(client, title="Restarted", maxParticipants=5)
        watched = await open_demo(browser, first.url, token("member-viewer"))
        port = int(first.url.rsplit(":", 1)[1])
    status = watched.page.locator("#status")
    await status.filter(has_text="reconnecting").wait_for(timeout=10000)

    with running_server(tmp_path, env, port=port) as second:
        await status.filter(has_text=LIVE).wait_for(timeout=30000)
        async with httpx.AsyncClient(base_url=second.url) as client:
            await register(client, session_id, "member-after-restart")
        await (
            cell(watched, session_id, "seats").filter(has_text="4 of 5 left").wait_for(timeout=5000)
        )

    assert watched.blocked == []
    # While the server is down, Chromium logs each refused connection attempt.
    assert all("WebSocket connection to" in error for error in watched.errors), watched.errors


async def test_demo_fits_a_phone(server: Server, browser: Browser) -> None:
    async with httpx.AsyncClient(base_url=server.url) as client:
        session_id = await session(
            client,
            title="Strength and conditioning for long-distance runners, week twelve",
            maxParticipants=1,
            waitlistEnabled=True,
        )
        await register(client, session_id, "member-a")
    watched = await open_demo(browser, server.url, token("member-viewer"), width=PHONE_WIDTH)
    button = cell(watched, session_id, "action").get_by_role("button", name="Join waitlist")
    await button.wait_for()
    box = await button.bounding_box()

    assert await document_width(watched.page) <= PHONE_WIDTH
    assert box is not None
    assert box["x"] >= 0
    assert box["x"] + box["width"] <= PHONE_WIDTH
    assert watched.errors == []


async def test_demo_offers_each_session_for_the_calendar(server: Server, browser: Browser) -> None:
    async with httpx.AsyncClient(base_url=server.url) as client:
        session_id = await session(client, title="Calendar class")
        watched = await open_demo(browser, server.url, token("member-viewer"))
        link = cell(watched, session_id, "title").get_by_role("link", name="Add to calendar")
        await link.wait_for()
        href = await link.get_attribute("href")
        assert href is not None
        calendar = await client.get(href)

    assert href == f"{server.url}/v1/sessions/{session_id}.ics"
    assert calendar.status_code == 200
    assert calendar.headers["content-type"].startswith("text/calendar")
    assert "SUMMARY:Calendar class" in calendar.text
    assert watched.blocked == []
    assert watched.errors == []
