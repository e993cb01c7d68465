# live-sessions as a container image. Not built on the machine this project is developed
# on (it has no container runtime): tests/docs/test_deploy_files.py checks that the
# commands, port, variables and health path below are the ones the service accepts.
#
#   docker build -t live-sessions .
#   docker run -p 8000:8000 -e DATABASE_URL=postgresql+asyncpg://... -e AUTH_JWT_SECRET=... live-sessions

FROM python:3.11-slim AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1
RUN python -m venv /opt/live-sessions
WORKDIR /src
COPY pyproject.toml constraints.txt README.md ./
COPY app ./app
# The same pins as development and CI; only the runtime dependencies, not `[dev]`.
RUN /opt/live-sessions/bin/pip install -c constraints.txt .

FROM python:3.11-slim
ENV PATH=/opt/live-sessions/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    LOG_FORMAT=json
COPY --from=build /opt/live-sessions /opt/live-sessions
RUN useradd --system --uid 10001 --home-dir /var/lib/live-sessions --create-home live-sessions
# Without DATABASE_URL the SQLite file (and its development secret) would live here: fine
# for a try, lost with the container unless this is a volume. Deployments use PostgreSQL.
WORKDIR /var/lib/live-sessions
USER live-sessions
EXPOSE 8000
# /healthz answers while the process is alive, whatever the load or the database.
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=2)"]
# `serve` applies the migrations before listening.
ENTRYPOINT ["live-sessions", "serve"]
CMD ["--host", "0.0.0.0", "--port", "8000"]
