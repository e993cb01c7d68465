"""What resolvers may need of the HTTP request behind an operation."""

import strawberry

from app.ics.links import base_url


def base_url_of(info: strawberry.Info) -> str:
    """The service's address for absolute URLs (app.ics.links.base_url)."""
    request = info.context.request
    assert request is not None, "operations run on behalf of a request"
    return base_url(request)
