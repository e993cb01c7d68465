"""The pages people open in a browser, and what they load.

    /                the landing page: links to everything below
    /graphql (GET)   the GraphiQL playground (served by the GraphQL view, see app.main)
    /docs            Swagger UI over /openapi.json
    /demo            a brand's upcoming sessions with live seat counts
    /schema.graphql  the published SDL, which the playground builds its schema from
    /favicon.ico     one SVG icon for all of them
    /static/...      the pages' scripts and styles, vendored (see each VENDORED.md)

The pages are served from the package with a Content-Security-Policy that allows only
this service's own origin (fonts and images inlined as data: URIs by the vendored
stylesheets are the one addition), so they work offline and cannot be made to load
anything else.
"""

import functools
from pathlib import Path

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, PlainTextResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

from app.schema import sdl

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

# Building the schema to print it takes a while; its shape never changes at run time.
published_sdl = functools.cache(sdl)


def page(relative: str) -> HTMLResponse:
    return HTMLResponse(
        (STATIC / relative).read_text(encoding="utf-8"),
        headers={
            "Content-Security-Policy": CONTENT_SECURITY_POLICY,
            "X-Content-Type-Options": "nosniff",
            "Referrer-Policy": "no-referrer",
        },
    )


async def landing(_: Request) -> HTMLResponse:
    return page("index.html")


async def rest_docs(_: Request) -> HTMLResponse:
    return page("swagger-ui/index.html")


async def demo(_: Request) -> HTMLResponse:
    return page("demo/index.html")


async def favicon(_: Request) -> Response:
    # SVG under the conventional name: browsers that ask for /favicon.ico unprompted
    # get the same icon the pages' <link rel="icon"> names.
    return Response(
        (STATIC / "favicon.svg").read_bytes(),
        media_type="image/svg+xml",
        headers={"Cache-Control": "public, max-age=86400"},
    )


async def published_schema(request: Request) -> PlainTextResponse:
    # The same switch as introspection: a deployment that hides its schema hides it here too.
    if not request.state.settings.graphql_introspection:
        raise HTTPException(404)
    return PlainTextResponse(published_sdl())


def routes() -> list[BaseRoute]:
    """Every page route but the playground, which shares /graphql with the API."""
    return [
        Route("/", landing, methods=["GET"]),
        Route("/docs", rest_docs, methods=["GET"]),
        Route("/demo", demo, methods=["GET"]),
        Route("/schema.graphql", published_schema, methods=["GET"]),
        Route("/favicon.ico", favicon, methods=["GET"]),
        Mount("/static", app=StaticFiles(directory=STATIC), name="static"),
    ]
