"""The pages people open in a browser: the GraphiQL playground and the /demo page.

Both are served from the package with a Content-Security-Policy that allows only this
service's own origin (fonts and images inlined as data: URIs by GraphiQL's stylesheet
are the one addition), so they work offline and cannot be made to load anything else.
"""

from pathlib import Path

from starlette.requests import Request
from starlette.responses import HTMLResponse
from starlette.staticfiles import StaticFiles

STATIC = Path(__file__).with_name("static")

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "connect-src 'self'",
        "img-src 'self' data:",
        "font-src 'self' data:",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)


def page(relative: str) -> HTMLResponse:
    return HTMLResponse(
        (STATIC / relative).read_text(encoding="utf-8"),
        headers={
            "Content-Security-Policy": CONTENT_SECURITY_POLICY,
            "X-Content-Type-Options": "nosniff",
            "Referrer-Policy": "no-referrer",
        },
    )


async def demo(_: Request) -> HTMLResponse:
    return page("demo/index.html")


def static_files() -> StaticFiles:
    return StaticFiles(directory=STATIC)
