"""The Dockerfile, compose.yaml and deploy/nginx.conf agree with the service.

They cannot be built or run here (no container runtime), so what is checked is what
would break them: the command and options the image runs are ones the installed
`live-sessions` accepts, its health check passes against a real server and fails
without one, every variable they set is a setting that validates, and the ports and
names line up from nginx through compose to the image.
"""

import re
import subprocess
import sys
import tomllib
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy.engine import make_url

from app.config import Settings
from tests.docs.deploy_files import (
    Directive,
    Instruction,
    dockerfile_stages,
    env_names,
    nginx_config,
)
from tests.docs.markdown import ROOT
from tests.server import Server, cli_env

STAGES = dockerfile_stages(ROOT / "Dockerfile")
IMAGE = STAGES[-1]
COMPOSE: dict[str, Any] = yaml.safe_load((ROOT / "compose.yaml").read_text())
SERVICES: dict[str, Any] = COMPOSE["services"]
NGINX = nginx_config(ROOT / "deploy" / "nginx.conf")
SETTINGS = {name.upper() for name in Settings.model_fields}
# Read by Python, pip and the shell in the image, not by the service.
IMAGE_ONLY_ENV = {"PATH", "PYTHONDONTWRITEBYTECODE", "PYTHONUNBUFFERED"}
# compose's ${NAME:?message} and ${NAME}: filled with a value long enough for any setting.
COMPOSE_VARIABLE = re.compile(r"\$\{[A-Z_]+(?::\?[^}]*)?\}")


def instruction(keyword: str) -> Instruction:
    (found,) = [item for item in IMAGE if item.keyword == keyword]
    return found


@cache
def cli_help(*command: str) -> str:
    """The installed console script's help: the one the image's ENTRYPOINT names."""
    script = Path(sys.executable).parent / entrypoint()[0]
    done = subprocess.run(
        [str(script), *command, "--help"],
        env=cli_env({}),
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    return done.stdout


def entrypoint() -> list[str]:
    return instruction("ENTRYPOINT").exec_form()


def options(argv: list[str]) -> dict[str, str]:
    pairs = zip(argv[::2], argv[1::2], strict=True)
    return dict(pairs)


def exposed_port() -> int:
    return int(instruction("EXPOSE").arguments)


def compose_environment(service: str) -> dict[str, str]:
    environment: dict[str, str] = SERVICES[service]["environment"]
    return {name: COMPOSE_VARIABLE.sub("x" * 48, value) for name, value in environment.items()}


# -- Dockerfile -----------------------------------------------------------------------


def test_the_image_is_a_slim_python_running_as_a_user_of_its_own() -> None:
    for stage in STAGES:
        assert re.fullmatch(r"python:3\.1[1-9]-slim( AS \w+)?", stage[0].arguments)
    user = instruction("USER").arguments
    assert user not in ("root", "0")
    assert any(
        item.keyword == "RUN" and "useradd" in item.arguments and item.arguments.endswith(user)
        for item in IMAGE
    )
    keywords = [item.keyword for item in IMAGE]
    assert keywords.index("USER") < keywords.index("ENTRYPOINT")


def test_the_image_installs_the_pinned_package_from_files_that_exist() -> None:
    copies = [item.arguments.split()[:-1] for item in STAGES[0] if item.keyword == "COPY"]
    for sources in copies:
        for source in sources:
            assert (ROOT / source).exists(), source
    installs = [item.arguments for item in STAGES[0] if "pip install" in item.arguments]
    assert installs == ["/opt/live-sessions/bin/pip install -c constraints.txt ."]


def test_the_entrypoint_is_the_console_script_serving() -> None:
    script, subcommand = entrypoint()
    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    assert scripts[script] == "app.cli:main"
    assert subcommand == "serve"
    assert subcommand in cli_help()


def test_the_image_options_are_ones_serve_accepts_on_the_exposed_port() -> None:
    given = options(instruction("CMD").exec_form())
    accepted = set(re.findall(r"--[a-z-]+", cli_help("serve")))
    assert set(given) <= accepted
    assert given["--host"] == "0.0.0.0"  # noqa: S104 - every interface of its container
    assert int(given["--port"]) == exposed_port()


def test_variables_the_image_sets_are_settings_or_pythons() -> None:
    names = env_names(IMAGE)
    assert names - IMAGE_ONLY_ENV <= SETTINGS
    Settings(**{name.lower(): value for name, value in image_env().items()})


def image_env() -> dict[str, str]:
    found: dict[str, str] = {}
    for item in IMAGE:
        if item.keyword == "ENV":
            found.update(re.findall(r"(?:^|\s)([A-Z_]+)=(\S+)", item.arguments))
    return {name: value for name, value in found.items() if name in SETTINGS}


def healthcheck(port: int) -> subprocess.CompletedProcess[bytes]:
    program, flag, code = instruction("HEALTHCHECK").exec_form()
    assert (program, flag) == ("python", "-c")
    assert f"http://127.0.0.1:{exposed_port()}/healthz" in code
    code = code.replace(f":{exposed_port()}/", f":{port}/")
    return subprocess.run(
        [sys.executable, "-c", code], capture_output=True, timeout=30, check=False
    )


@pytest.mark.slow
def test_the_health_check_passes_against_a_server_and_fails_without(server: Server) -> None:
    port = int(server.url.rsplit(":", 1)[1])
    assert healthcheck(port).returncode == 0
    server.process.terminate()
    server.process.wait(timeout=15)
    assert healthcheck(port).returncode != 0


# -- compose.yaml ---------------------------------------------------------------------


def test_compose_runs_two_replicas_of_the_image_after_migrating() -> None:
    api, migrate = SERVICES["api"], SERVICES["migrate"]
    assert api["build"] == migrate["build"] == "."
    assert api["deploy"]["replicas"] == 2
    assert migrate["entrypoint"] == [entrypoint()[0], "migrate"]
    assert re.search(r"^\s+migrate\s", cli_help(), re.MULTILINE)
    assert api["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
    assert api["depends_on"]["db"]["condition"] == "service_healthy"
    assert SERVICES["proxy"]["depends_on"]["api"]["condition"] == "service_healthy"


def test_compose_options_are_ones_serve_accepts_on_the_image_port() -> None:
    given = options(SERVICES["api"]["command"])
    assert set(given) <= set(re.findall(r"--[a-z-]+", cli_help("serve")))
    assert int(given["--port"]) == exposed_port()


@pytest.mark.parametrize("service", ["api", "migrate"])
def test_compose_variables_are_settings_that_validate(service: str) -> None:
    environment = compose_environment(service)
    assert set(environment) <= SETTINGS
    Settings(**{name.lower(): value for name, value in environment.items()})


def test_compose_points_the_service_at_its_postgresql() -> None:
    url = make_url(compose_environment("api")["DATABASE_URL"])
    db = SERVICES["db"]["environment"]
    assert url.drivername == "postgresql+asyncpg"
    assert (url.host, url.port) == ("db", 5432)
    assert (url.username, url.database) == (db["POSTGRES_USER"], db["POSTGRES_DB"])
    # The same password variable on both sides, never one written into the file.
    assert re.search(
        r":\$\{POSTGRES_PASSWORD\b[^}]*\}@", SERVICES["api"]["environment"]["DATABASE_URL"]
    )
    assert db["POSTGRES_PASSWORD"].startswith("${POSTGRES_PASSWORD")


def test_compose_mounts_the_nginx_example() -> None:
    (mount,) = SERVICES["proxy"]["volumes"]
    source, target, _mode = mount.split(":")
    assert (ROOT / source).resolve() == (ROOT / "deploy" / "nginx.conf").resolve()
    assert target.startswith("/etc/nginx/conf.d/")


# -- deploy/nginx.conf ----------------------------------------------------------------


def server_block() -> Directive:
    (server,) = NGINX.find("server")
    return server


def test_nginx_sends_to_the_replicas_on_the_image_port() -> None:
    (upstream,) = NGINX.find("upstream")
    (target,) = upstream.find("server")
    host, port = target.arguments[0].split(":")
    assert host == "api"
    assert int(port) == exposed_port()
    for location in server_block().find("location"):
        (proxy_pass,) = location.find("proxy_pass")
        assert proxy_pass.arguments == [f"http://{upstream.arguments[0]}"]


def test_nginx_upgrades_websockets_on_graphql() -> None:
    server = server_block()
    headers = {
        tuple(item.arguments[:1]): item.arguments[1] for item in server.find("proxy_set_header")
    }
    assert headers[("Upgrade",)] == "$http_upgrade"
    (upgrade_map,) = NGINX.find("map", "$http_upgrade")
    assert headers[("Connection",)] == upgrade_map.arguments[1]
    assert upgrade_map.find("default", "upgrade")
    assert server.find("proxy_http_version", "1.1")
    (graphql,) = server.find("location", "/graphql")
    # A location with a proxy_set_header of its own inherits none of the server's.
    assert not graphql.find("proxy_set_header")
    (timeout,) = graphql.find("proxy_read_timeout")
    assert timeout.arguments != ["60s"]
