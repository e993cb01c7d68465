"""app.auth: HS256 bearer tokens, scopes and ownership, and where the secret comes from."""

import base64
import json
import logging
import re
import stat
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import jwt
import pytest

from app.auth import Caller, TokenVerifier, mint_token, resolve_secret
from app.config import ConfigError, Settings
from app.errors import Forbidden, Unauthenticated

# 64 bytes: long enough that PyJWT does not warn about HS256, HS384 or HS512 keys.
SECRET = "unit-test-secret-0123456789abcdef-0123456789abcdef-0123456789abcd"
OTHER_SECRET = "another-secret-0123456789abcdef-0123456789abcdef-0123456789abcdef"
AUDIENCE = "live-sessions"
ISSUER = "https://issuer.example"


def _claims(**overrides: Any) -> dict[str, Any]:
    now = datetime.now(UTC)
    claims: dict[str, Any] = {
        "sub": "host-1",
        "scope": "sessions:write registrations:write",
        "iat": now,
        "exp": now + timedelta(minutes=5),
    }
    claims.update(overrides)
    return {key: value for key, value in claims.items() if value is not None}


def _encode(claims: dict[str, Any], *, secret: str = SECRET, algorithm: str = "HS256") -> str:
    return jwt.encode(claims, secret, algorithm=algorithm)


def _b64url(data: dict[str, Any]) -> str:
    raw = json.dumps(data, default=lambda value: int(value.timestamp())).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _verifier(*, audience: str | None = None, issuer: str | None = None) -> TokenVerifier:
    return TokenVerifier(SECRET, audience=audience, issuer=issuer)


def test_valid_token_gives_sub_and_space_separated_scopes() -> None:
    caller = _verifier().verify(_encode(_claims()))

    assert caller == Caller(
        sub="host-1", scopes=frozenset({"sessions:write", "registrations:write"})
    )


def test_scp_list_is_accepted_as_scopes() -> None:
    token = _encode(_claims(scope=None, scp=["sessions:admin", "sessions:write"]))

    assert _verifier().verify(token).scopes == {"sessions:admin", "sessions:write"}


def test_token_without_scope_claim_has_no_scopes() -> None:
    caller = _verifier().verify(_encode(_claims(scope=None)))

    assert caller.sub == "host-1"
    assert caller.scopes == frozenset()


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        pytest.param({"exp": timedelta(seconds=-5)}, "has expired", id="expired"),
        pytest.param({"nbf": timedelta(minutes=1)}, "not valid yet", id="nbf-in-future"),
        pytest.param({"exp": None}, "lacks the 'exp' claim", id="no-exp"),
        pytest.param({"sub": None}, "lacks the 'sub' claim", id="no-sub"),
        pytest.param({"sub": ""}, "'sub' must be a non-empty string", id="empty-sub"),
        pytest.param({"sub": 42}, "is invalid", id="non-string-sub"),
    ],
)
def test_token_with_bad_claims_is_refused(overrides: dict[str, Any], message: str) -> None:
    now = datetime.now(UTC)
    claims = _claims(
        **{
            key: now + value if isinstance(value, timedelta) else value
            for key, value in overrides.items()
        }
    )

    with pytest.raises(Unauthenticated, match=message):
        _verifier().verify(_encode(claims))


def test_token_signed_with_another_secret_is_refused_and_the_log_says_why_once(
    caplog: pytest.LogCaptureFixture,
) -> None:
    verifier = TokenVerifier(SECRET, audience=None, issuer=None, key_source="AUTH_JWT_SECRET")

    for sub in ("host-1", "host-2", "host-1"):
        with pytest.raises(Unauthenticated, match=r"^the token is invalid$"):
            verifier.verify(_encode(_claims(sub=sub), secret=OTHER_SECRET))

    told = [record for record in caplog.records if record.name == "app.auth"]
    assert len(told) == 1
    assert told[0].levelno == logging.WARNING
    assert "does not match this server's secret, AUTH_JWT_SECRET" in told[0].getMessage()


def test_tampered_payload_is_refused() -> None:
    header, payload, signature = _encode(_claims()).split(".")
    middle = len(payload) // 2
    replacement = "A" if payload[middle] != "A" else "B"
    tampered = payload[:middle] + replacement + payload[middle + 1 :]

    with pytest.raises(Unauthenticated, match="the token is invalid"):
        _verifier().verify(f"{header}.{tampered}.{signature}")


def test_payload_swapped_under_a_valid_signature_is_refused() -> None:
    header, _, signature = _encode(_claims(scope="sessions:write")).split(".")
    forged = _b64url(_claims(scope="sessions:admin"))

    with pytest.raises(Unauthenticated, match="the token is invalid"):
        _verifier().verify(f"{header}.{forged}.{signature}")


def test_unsigned_alg_none_token_is_refused() -> None:
    token = f"{_b64url({'alg': 'none', 'typ': 'JWT'})}.{_b64url(_claims())}."

    with pytest.raises(Unauthenticated, match="the token is invalid"):
        _verifier().verify(token)


@pytest.mark.parametrize("algorithm", ["HS384", "HS512"])
def test_other_hmac_algorithm_with_the_same_secret_is_refused(algorithm: str) -> None:
    token = _encode(_claims(), algorithm=algorithm)

    with pytest.raises(Unauthenticated, match="the token is invalid"):
        _verifier().verify(token)


def test_matching_audience_is_accepted() -> None:
    caller = _verifier(audience=AUDIENCE).verify(_encode(_claims(aud=AUDIENCE)))

    assert caller.sub == "host-1"


def test_audience_list_containing_ours_is_accepted() -> None:
    token = _encode(_claims(aud=["someone-else", AUDIENCE]))

    assert _verifier(audience=AUDIENCE).verify(token).sub == "host-1"


@pytest.mark.parametrize(
    ("aud", "message"),
    [
        pytest.param("someone-else", "for another audience", id="other-audience"),
        pytest.param(None, "lacks the 'aud' claim", id="missing-audience"),
    ],
)
def test_wrong_or_missing_audience_is_refused(aud: str | None, message: str) -> None:
    with pytest.raises(Unauthenticated, match=message):
        _verifier(audience=AUDIENCE).verify(_encode(_claims(aud=aud)))


def test_matching_issuer_is_accepted() -> None:
    caller = _verifier(issuer=ISSUER).verify(_encode(_claims(iss=ISSUER)))

    assert caller.sub == "host-1"


@pytest.mark.parametrize(
    ("iss", "message"),
    [
        pytest.param("https://evil.example", "from another issuer", id="other-issuer"),
        pytest.param(None, "lacks the 'iss' claim", id="missing-issuer"),
    ],
)
def test_wrong_or_missing_issuer_is_refused(iss: str | None, message: str) -> None:
    with pytest.raises(Unauthenticated, match=message):
        _verifier(issuer=ISSUER).verify(_encode(_claims(iss=iss)))


def test_minted_token_round_trips_with_audience_and_issuer() -> None:
    token = mint_token(
        SECRET,
        sub="host-7",
        scopes=["sessions:write", "sessions:admin"],
        audience=AUDIENCE,
        issuer=ISSUER,
    )

    caller = _verifier(audience=AUDIENCE, issuer=ISSUER).verify(token)

    assert caller == Caller(sub="host-7", scopes=frozenset({"sessions:write", "sessions:admin"}))


def test_minted_token_expires_after_its_ttl() -> None:
    token = mint_token(
        SECRET,
        sub="host-7",
        ttl=timedelta(hours=1),
        now=datetime.now(UTC) - timedelta(hours=2),
    )

    with pytest.raises(Unauthenticated, match="has expired"):
        _verifier().verify(token)


def test_a_token_is_checked_once_while_it_is_valid(monkeypatch: pytest.MonkeyPatch) -> None:
    decoded: list[str] = []
    decode = jwt.decode

    def counting_decode(token: str, *args: Any, **kwargs: Any) -> Any:
        decoded.append(token)
        return decode(token, *args, **kwargs)

    monkeypatch.setattr(jwt, "decode", counting_decode)
    verifier = _verifier()
    token = _encode(_claims())

    callers = {verifier.verify(token) for _ in range(3)}

    assert len(callers) == 1
    assert decoded == [token]


class FakeClock:
    """Seconds since the epoch, moved only by the test."""

    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def test_a_token_accepted_before_is_refused_once_it_expires() -> None:
    # Verified tokens are remembered until their `exp`, and not a moment longer.
    clock = FakeClock(time.time())
    expires = int(clock.now) + 60
    token = _encode(_claims(exp=expires))
    verifier = TokenVerifier(SECRET, audience=None, issuer=None, clock=clock)
    assert verifier.verify(token).sub == "host-1"

    clock.now = expires - 0.001
    assert verifier.verify(token).sub == "host-1"
    clock.now = expires

    with pytest.raises(Unauthenticated, match="has expired"):
        verifier.verify(token)


def test_a_token_accepted_before_does_not_vouch_for_a_tampered_copy() -> None:
    verifier = _verifier()
    token = _encode(_claims())
    assert verifier.verify(token).sub == "host-1"
    header, _, signature = token.split(".")
    forged = f"{header}.{_b64url(_claims(scope='sessions:admin'))}.{signature}"

    with pytest.raises(Unauthenticated, match="is invalid"):
        verifier.verify(forged)
    assert verifier.verify(token).sub == "host-1"


def test_each_token_speaks_for_its_own_claims() -> None:
    verifier = _verifier()
    reader = _encode(_claims(sub="member-1", scope="registrations:write"))
    admin = _encode(_claims(sub="admin-1", scope="sessions:admin"))

    for _ in range(2):
        assert verifier.verify(reader) == Caller("member-1", frozenset({"registrations:write"}))
        assert verifier.verify(admin) == Caller("admin-1", frozenset({"sessions:admin"}))


def test_missing_scope_is_forbidden() -> None:
    caller = Caller(sub="host-1", scopes=frozenset({"registrations:write"}))

    caller.require_scope("registrations:write")
    with pytest.raises(Forbidden, match="sessions:write"):
        caller.require_scope("sessions:write")


@pytest.mark.parametrize(
    ("scopes", "host_id"),
    [
        pytest.param(frozenset(), "host-1", id="the-host-itself"),
        pytest.param(frozenset({"sessions:admin"}), "host-2", id="admin-for-another-host"),
    ],
)
def test_host_or_admin_may_act_for_host(scopes: frozenset[str], host_id: str) -> None:
    Caller(sub="host-1", scopes=scopes).require_owner(host_id)


def test_another_host_is_forbidden_without_admin_scope() -> None:
    caller = Caller(sub="host-1", scopes=frozenset({"sessions:write"}))

    with pytest.raises(Forbidden, match="host-2"):
        caller.require_owner("host-2")


def test_configured_secret_is_used(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("AUTH_JWT_SECRET", raising=False)
    settings = Settings(database_url=f"sqlite+aiosqlite:///{tmp_path}/x.db", auth_jwt_secret=SECRET)

    assert resolve_secret(settings).value == SECRET
    assert list(tmp_path.iterdir()) == []


def test_sqlite_file_without_secret_keeps_a_private_secret_beside_it(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("AUTH_JWT_SECRET", raising=False)
    settings = Settings(database_url=f"sqlite+aiosqlite:///{tmp_path}/x.db", auth_jwt_secret=None)

    first = resolve_secret(settings).value
    second = resolve_secret(settings).value

    secret_file = tmp_path / "x.db.secret"
    assert first == second == secret_file.read_text().strip()
    assert len(first) >= 32
    assert stat.S_IMODE(secret_file.stat().st_mode) == 0o600
    assert [path.name for path in tmp_path.iterdir()] == ["x.db.secret"]


@pytest.mark.parametrize(
    "database_url",
    [
        pytest.param("postgresql+asyncpg://user@db.example/live", id="postgresql"),
        pytest.param("sqlite+aiosqlite:///:memory:", id="sqlite-in-memory"),
    ],
)
def test_missing_secret_without_a_sqlite_file_is_an_error(
    monkeypatch: pytest.MonkeyPatch, database_url: str
) -> None:
    monkeypatch.delenv("AUTH_JWT_SECRET", raising=False)
    settings = Settings(database_url=database_url, auth_jwt_secret=None)

    with pytest.raises(ConfigError, match="AUTH_JWT_SECRET is not set"):
        resolve_secret(settings)


def test_the_development_secret_is_beside_the_database_whatever_the_current_folder(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("AUTH_JWT_SECRET", raising=False)
    (tmp_path / "elsewhere").mkdir()
    monkeypatch.chdir(tmp_path)
    made = resolve_secret(Settings(database_url="sqlite:///data/x.db"))
    monkeypatch.chdir(tmp_path / "elsewhere")
    found = resolve_secret(Settings(database_url=f"sqlite:///{tmp_path}/data/x.db"), create=False)

    assert found == made
    assert made.development
    assert (
        made.source == f"the development secret in {tmp_path}/data/x.db.secret, beside the database"
    )


def test_token_minting_never_creates_a_secret(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("AUTH_JWT_SECRET", raising=False)
    settings = Settings(database_url=f"sqlite:///{tmp_path}/x.db")

    with pytest.raises(
        ConfigError, match=re.escape(f"there is no secret in {tmp_path}/x.db.secret yet")
    ):
        resolve_secret(settings, create=False)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("database_url", ["sqlite:///{tmp}/x.db", "postgresql://u@db/live"])
def test_an_explicit_secret_file_is_read_on_either_engine(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, database_url: str
) -> None:
    monkeypatch.delenv("AUTH_JWT_SECRET", raising=False)
    path = tmp_path / "jwt.secret"
    path.write_text(SECRET + "\n")
    settings = Settings(database_url=database_url.format(tmp=tmp_path), auth_jwt_secret_file=path)

    secret = resolve_secret(settings, create=False)

    assert secret.value == SECRET
    assert not secret.development
    assert secret.source == f"the secret in AUTH_JWT_SECRET_FILE ({path})"
    assert secret.warnings() == []


def test_a_missing_secret_file_is_never_made_on_postgresql(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("AUTH_JWT_SECRET", raising=False)
    settings = Settings(
        database_url="postgresql://u@db/live", auth_jwt_secret_file=tmp_path / "jwt.secret"
    )

    with pytest.raises(ConfigError, match=r"names .*jwt\.secret, which does not exist"):
        resolve_secret(settings)
    assert list(tmp_path.iterdir()) == []


def test_a_short_secret_is_refused_on_postgresql_and_told_on_sqlite(tmp_path: Path) -> None:
    short = "x" * 31
    postgresql = Settings(database_url="postgresql://u@db/live", auth_jwt_secret=short)
    sqlite = Settings(database_url=f"sqlite:///{tmp_path}/x.db", auth_jwt_secret=short)

    with pytest.raises(ConfigError, match="AUTH_JWT_SECRET is 31 bytes long, and HS256 needs"):
        resolve_secret(postgresql)
    [warning] = resolve_secret(sqlite).warnings()
    assert warning.startswith("AUTH_JWT_SECRET is 31 bytes long")
    assert resolve_secret(Settings(database_url="postgres://u@db/live", auth_jwt_secret="x" * 32))
