"""Bearer JWT authentication: who the caller is and what they may do.

The middleware never rejects a request by itself: routes such as the GraphiQL page
and /healthz need no token. It records either a `Caller` or the reason a presented
token was refused, and the operations that need a caller raise `Unauthenticated`.
"""

import logging
import os
import secrets
import tempfile
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import jwt
from cachetools import TLRUCache
from starlette.authentication import (
    AuthCredentials,
    AuthenticationBackend,
    BaseUser,
    UnauthenticatedUser,
)
from starlette.requests import HTTPConnection

from app.config import Settings
from app.errors import Forbidden, Unauthenticated

logger = logging.getLogger(__name__)

ALGORITHM = "HS256"
SCOPE_SESSIONS_WRITE = "sessions:write"
SCOPE_SESSIONS_ADMIN = "sessions:admin"
SCOPE_REGISTRATIONS_WRITE = "registrations:write"
# Tokens remembered as verified, per process: a few MiB at most.
VERIFIED_TOKENS = 4096


@dataclass(frozen=True)
class Caller(BaseUser):
    """An authenticated caller: the token's `sub` and its scopes."""

    sub: str
    scopes: frozenset[str] = field(default_factory=frozenset)

    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def display_name(self) -> str:
        return self.sub

    @property
    def identity(self) -> str:
        return self.sub

    def require_scope(self, scope: str) -> None:
        if scope not in self.scopes:
            raise Forbidden(f"this operation needs the scope '{scope}'")

    def require_owner(self, host_id: str) -> None:
        """Only the host, or an admin, may act for `host_id`."""
        if self.sub != host_id and SCOPE_SESSIONS_ADMIN not in self.scopes:
            raise Forbidden(
                f"only the host ('{host_id}') or a caller with '{SCOPE_SESSIONS_ADMIN}' may do this"
            )


class RefusedCredentials(UnauthenticatedUser):
    """A token was presented and refused; `reason` says why."""

    def __init__(self, reason: str) -> None:
        self.reason = reason


def require_caller(user: BaseUser) -> Caller:
    """The authenticated caller, or `Unauthenticated` naming what was wrong."""
    if isinstance(user, Caller):
        return user
    if isinstance(user, RefusedCredentials):
        raise Unauthenticated(user.reason)
    raise Unauthenticated("an 'Authorization: Bearer <token>' header is required")


@dataclass(frozen=True)
class _Verified:
    caller: Caller
    expires: float  # the token's `exp`, in seconds since the epoch


class TokenVerifier:
    """Verifies HS256 tokens; `alg: none` and every other algorithm are refused."""

    def __init__(
        self,
        secret: str,
        *,
        audience: str | None,
        issuer: str | None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        """`clock` (seconds since the epoch) decides when a token has expired; tests move it."""
        self._secret = secret
        self._audience = audience
        self._issuer = issuer
        self._clock = clock
        required = ["exp", "sub"]
        if audience is not None:
            required.append("aud")
        if issuer is not None:
            required.append("iss")
        # Without an explicit `require`, PyJWT accepts a token that has no `exp`.
        self._options: dict[str, Any] = {"require": required}
        # A client sends the same token with every request, and checking it again gives
        # the same caller until its `exp`: only tokens that passed are remembered, keyed
        # by the whole token, so a changed byte is a miss, and each entry goes at `exp`
        # (`_decode`'s rule too: valid while clock() < exp).
        self._verified: TLRUCache[str, _Verified] = TLRUCache(
            maxsize=VERIFIED_TOKENS,
            ttu=lambda _token, verified, _now: verified.expires,
            timer=clock,
        )

    def verify(self, token: str) -> Caller:
        verified = self._verified.get(token)
        if verified is None:
            verified = self._decode(token)
            self._verified[token] = verified
        return verified.caller

    def _decode(self, token: str) -> _Verified:
        try:
            claims = jwt.decode(
                token,
                self._secret,
                algorithms=[ALGORITHM],
                audience=self._audience,
                issuer=self._issuer,
                options=self._options,  # type: ignore[arg-type]
            )
        except jwt.ExpiredSignatureError:
            raise Unauthenticated("the token has expired") from None
        except jwt.ImmatureSignatureError:
            raise Unauthenticated("the token is not valid yet") from None
        except jwt.InvalidAudienceError:
            raise Unauthenticated("the token is for another audience") from None
        except jwt.InvalidIssuerError:
            raise Unauthenticated("the token is from another issuer") from None
        except jwt.MissingRequiredClaimError as error:
            raise Unauthenticated(f"the token lacks the '{error.claim}' claim") from None
        except jwt.InvalidTokenError:
            raise Unauthenticated("the token is invalid") from None
        sub = claims["sub"]
        if not isinstance(sub, str) or not sub:
            raise Unauthenticated("the token's 'sub' must be a non-empty string")
        # PyJWT has checked that `exp` is a number and compares it as int() does.
        expires = int(claims["exp"])
        # PyJWT compares `exp` with its own wall clock, which a test cannot move.
        if expires <= self._clock():
            raise Unauthenticated("the token has expired")
        return _Verified(Caller(sub=sub, scopes=_scopes(claims)), expires)


def _scopes(claims: dict[str, Any]) -> frozenset[str]:
    scope = claims.get("scope")
    if isinstance(scope, str):
        return frozenset(scope.split())
    scp = claims.get("scp")
    if isinstance(scp, str):
        return frozenset(scp.split())
    if isinstance(scp, list):
        return frozenset(item for item in scp if isinstance(item, str))
    return frozenset()


def mint_token(
    secret: str,
    *,
    sub: str,
    scopes: Iterable[str] = (),
    ttl: timedelta = timedelta(hours=12),
    audience: str | None = None,
    issuer: str | None = None,
    now: datetime | None = None,
) -> str:
    """Sign a token that `TokenVerifier` with the same settings accepts."""
    issued = now or datetime.now(UTC)
    claims: dict[str, Any] = {
        "sub": sub,
        "scope": " ".join(scopes),
        "iat": issued,
        "exp": issued + ttl,
    }
    if audience is not None:
        claims["aud"] = audience
    if issuer is not None:
        claims["iss"] = issuer
    return jwt.encode(claims, secret, algorithm=ALGORITHM)


class BearerAuthBackend(AuthenticationBackend):
    """Reads the verifier from lifespan state, where it is built with the engine."""

    async def authenticate(self, conn: HTTPConnection) -> tuple[AuthCredentials, BaseUser] | None:
        header = conn.headers.get("authorization")
        if header is None:
            return None
        user = credentials_from_header(header, conn.state.verifier)
        scopes = sorted(user.scopes) if isinstance(user, Caller) else []
        return AuthCredentials(scopes), user


def credentials_from_header(header: object, verifier: TokenVerifier) -> Caller | RefusedCredentials:
    """The caller an `Authorization: Bearer <token>` value speaks for, or why not."""
    if not isinstance(header, str):
        return RefusedCredentials("an 'Authorization: Bearer <token>' header is required")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return RefusedCredentials("the Authorization header must be 'Bearer <token>'")
    try:
        return verifier.verify(token.strip())
    except Unauthenticated as error:
        return RefusedCredentials(error.message)


def verifier_for(settings: Settings, secret: str) -> TokenVerifier:
    """The verifier for `secret` (`resolve_secret(settings)`) and the settings' claims."""
    return TokenVerifier(
        secret,
        audience=settings.auth_jwt_audience,
        issuer=settings.auth_jwt_issuer,
    )


def resolve_secret(settings: Settings) -> str:
    """The configured secret, or on a SQLite file a development secret kept beside it.

    Nothing ever runs without a secret: PostgreSQL deployments must configure one,
    since their workers may not share a disk.
    """
    if settings.auth_jwt_secret:
        return settings.auth_jwt_secret
    db_path = settings.sqlite_path
    if db_path is None:
        raise RuntimeError(
            "AUTH_JWT_SECRET is not set. It is required unless DATABASE_URL is a SQLite file."
        )
    secret_path = db_path.with_name(db_path.name + ".secret")
    secret = _read_or_create_secret(secret_path)
    logger.warning(
        "AUTH_JWT_SECRET is not set: using the development secret in %s. "
        "Set AUTH_JWT_SECRET for any deployment that others use.",
        secret_path,
    )
    return secret


def _read_or_create_secret(path: Path) -> str:
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        # Written aside and linked into place: concurrent workers agree on one secret,
        # and none can read a half-written file.
        fd, temp_name = tempfile.mkstemp(dir=path.parent, prefix=".secret-")
        try:
            with os.fdopen(fd, "w") as temp:
                temp.write(secrets.token_urlsafe(48))
            os.link(temp_name, path)
        except FileExistsError:
            pass
        finally:
            os.unlink(temp_name)
    return path.read_text().strip()
