"""Bearer JWT authentication: who the caller is and what they may do.

The front layer (app.http_front) never rejects a request for its token: routes such as
the GraphiQL page and /healthz need none. It records either a `Caller` or the reason a
presented token was refused, and the operations that need a caller raise `Unauthenticated`.
"""

import logging
import os
import secrets
import tempfile
import time
import warnings
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import jwt
from cachetools import TLRUCache
from starlette.authentication import AuthCredentials, BaseUser, UnauthenticatedUser

from app.config import ConfigError, Settings
from app.errors import Forbidden, Unauthenticated

logger = logging.getLogger(__name__)
# A short secret is told once per server, in the log, at start (`Secret.warnings`);
# PyJWT would also print it in every worker, outside the log, at its first token.
warnings.filterwarnings("ignore", category=jwt.InsecureKeyLengthWarning)

ALGORITHM = "HS256"
SCOPE_SESSIONS_WRITE = "sessions:write"
SCOPE_SESSIONS_ADMIN = "sessions:admin"
SCOPE_REGISTRATIONS_WRITE = "registrations:write"
SCOPE_WEBHOOKS_ADMIN = "webhooks:admin"  # a brand's webhook endpoints and deliveries
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
        key_source: str = "the configured secret",
    ) -> None:
        """`clock` (seconds since the epoch) decides when a token has expired; tests move it.
        `key_source` says in the server log where the secret comes from."""
        self._secret = secret
        self._key_source = key_source
        self._told_signature = False
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
        except jwt.InvalidSignatureError:
            self._tell_signature_mismatch()
            raise Unauthenticated("the token is invalid") from None
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

    def _tell_signature_mismatch(self) -> None:
        # The caller only learns that the token is invalid: which secret the server
        # holds is the operator's business. Said once per process, since a client
        # holding such a token usually sends it again and again.
        if self._told_signature:
            return
        self._told_signature = True
        logger.warning(
            "refused a token whose signature does not match this server's secret, %s: it "
            "was signed with another secret, or altered. Tokens from `live-sessions token` "
            "must be made with the server's DATABASE_URL, AUTH_JWT_SECRET_FILE or "
            "AUTH_JWT_SECRET. Said once per process.",
            self._key_source,
        )


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


def authenticate(header: str | None, state: Mapping[str, Any]) -> tuple[AuthCredentials, BaseUser]:
    """`request.auth` and `request.user` for an `Authorization` header (None: none sent),
    as Starlette's AuthenticationMiddleware would set them; the verifier is the lifespan
    state's, where it is built with the engine."""
    if header is None:
        return AuthCredentials(), UnauthenticatedUser()
    user = credentials_from_header(header, state["verifier"])
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


def verifier_for(settings: Settings, secret: "Secret") -> TokenVerifier:
    """The verifier for `secret` (`resolve_secret(settings)`) and the settings' claims."""
    return TokenVerifier(
        secret.value,
        audience=settings.auth_jwt_audience,
        issuer=settings.auth_jwt_issuer,
        key_source=secret.source,
    )


# HS256 keys shorter than its 256-bit output weaken it (RFC 7518, section 3.2).
MIN_SECRET_BYTES = 32
RANDOM_KEY_COMMAND = "python3 -c 'import secrets; print(secrets.token_urlsafe(48))'"


@dataclass(frozen=True)
class Secret:
    value: str
    source: str  # where it comes from, in words an operator can act on
    development: bool = False  # generated beside the SQLite file

    @property
    def too_short(self) -> bool:
        return len(self.value.encode()) < MIN_SECRET_BYTES

    @property
    def too_short_message(self) -> str:
        return (
            f"{self.source} is {len(self.value.encode())} bytes long, and HS256 needs at least "
            f"{MIN_SECRET_BYTES}: write a longer one, for example from `{RANDOM_KEY_COMMAND}`"
        )

    def warnings(self) -> list[str]:
        """What a server should say once at start about this secret (on SQLite; on
        PostgreSQL a short one is refused)."""
        said = []
        if self.development:
            said.append(
                f"AUTH_JWT_SECRET is not set: using {self.source}; "
                "set AUTH_JWT_SECRET for any deployment that others use"
            )
        if self.too_short:
            said.append(self.too_short_message + " (PostgreSQL deployments refuse to start)")
        return said


def resolve_secret(settings: Settings, *, create: bool = True) -> Secret:
    """The signing secret: AUTH_JWT_SECRET, else the file AUTH_JWT_SECRET_FILE names,
    else the development secret beside a SQLite file (see `Settings.secret_file`).

    `create`: on SQLite, make the file if it is missing (the server does; `token` must
    not, or its tokens would be signed with a secret no server knows). Nothing ever runs
    without a secret, and PostgreSQL, whose workers may not share a disk, never makes one.
    """
    if settings.auth_jwt_secret:
        secret = Secret(settings.auth_jwt_secret, "AUTH_JWT_SECRET")
    else:
        secret = _secret_from_file(settings, create=create)
    if secret.too_short and not settings.is_sqlite:
        raise ConfigError(secret.too_short_message)
    return secret


def _secret_from_file(settings: Settings, *, create: bool) -> Secret:
    path = settings.secret_file
    if path is None:
        raise ConfigError(
            "AUTH_JWT_SECRET is not set, and it is required unless DATABASE_URL is a SQLite "
            f"file: set AUTH_JWT_SECRET (for example from `{RANDOM_KEY_COMMAND}`) "
            "or AUTH_JWT_SECRET_FILE"
        )
    named = settings.auth_jwt_secret_file is not None
    source = (
        f"the secret in AUTH_JWT_SECRET_FILE ({path})"
        if named
        else f"the development secret in {path}, beside the database"
    )
    if not path.exists():
        if not create:
            raise ConfigError(
                f"there is no secret in {path} yet: the server creates it when it first "
                "starts; run this command with the server's DATABASE_URL (or "
                "AUTH_JWT_SECRET_FILE, or AUTH_JWT_SECRET)"
            )
        if not settings.is_sqlite:
            raise ConfigError(
                f"AUTH_JWT_SECRET_FILE names {path}, which does not exist: write a secret "
                f"there (for example from `{RANDOM_KEY_COMMAND}`)"
            )
        _create_secret(path)
    try:
        value = path.read_text().strip()
    except OSError as error:
        raise ConfigError(f"cannot read the secret in {path}: {error.strerror}") from None
    if not value:
        raise ConfigError(f"the secret file {path} is empty: write a secret there")
    return Secret(value, source, development=not named)


def _create_secret(path: Path) -> None:
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
