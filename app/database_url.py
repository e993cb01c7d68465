"""DATABASE_URL: the spellings people write for our two engines, and what they mean.

The service speaks to SQLite through aiosqlite and to PostgreSQL through asyncpg.
A URL without a driver (`sqlite:///x.db`, `postgresql://...`, or `postgres://...` as
libpq and many hosting providers write it) means that driver; a URL naming another
driver is refused, since its query parameters would be that driver's, not asyncpg's.
"""

from pathlib import Path

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

SQLITE = "sqlite+aiosqlite"
POSTGRESQL = "postgresql+asyncpg"
EXAMPLES = "sqlite:///live-sessions.db (a file) or postgresql://USER:PASSWORD@HOST:5432/DATABASE"
_DRIVERS = {
    "sqlite": SQLITE,
    SQLITE: SQLITE,
    "postgresql": POSTGRESQL,
    "postgres": POSTGRESQL,
    POSTGRESQL: POSTGRESQL,
}


def normalise(url: str) -> str:
    """`url` naming the driver we use, or ValueError saying what to write instead.

    Messages never quote more than the scheme: the rest may hold a password.
    """
    scheme, separator, rest = url.strip().partition("://")
    if not separator:
        raise ValueError(f"'{url}' is not a URL: write {EXAMPLES}")
    driver = _DRIVERS.get(scheme.lower())
    if driver is None:
        backend = scheme.lower().partition("+")[0]
        if backend in _DRIVERS:
            wanted = _DRIVERS[backend]
            raise ValueError(
                f"'{scheme}://' names a driver live-sessions does not use: write "
                f"{backend}://... or {wanted}://... (it uses {wanted.partition('+')[2]})"
            )
        raise ValueError(f"'{scheme}://' is not a database live-sessions serves: write {EXAMPLES}")
    normalised = f"{driver}://{rest}"
    try:
        make_url(normalised)
    except ArgumentError:
        raise ValueError(f"it is not a URL SQLAlchemy can read: write {EXAMPLES}") from None
    return normalised


def is_sqlite(url: str) -> bool:
    return url.startswith(SQLITE)


def sqlite_file(url: str) -> Path | None:
    """The absolute path of a file-backed SQLite URL's database, else None.

    Absolute because the development secret is found beside it: `serve` and `token`
    must agree on it whatever folder each runs in.
    """
    if not is_sqlite(url):
        return None
    database = make_url(url).database
    if not database or database == ":memory:" or database.startswith("file:"):
        return None
    return Path(database).resolve()
