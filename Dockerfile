# One image for every Python service of thidua: the HTTP API (with its outbox relay), the projectors and
# the one-off jobs. Each container chooses its command, e.g.
#   uvicorn services.directory.entrypoints.main:app --host 0.0.0.0 --port 8101
#   python -m services.directory.entrypoints.projector --scope hn
# Settings come from THIDUA_* environment variables (shared/settings.py).

FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app

# Dependencies first, from pyproject.toml alone, so a source change does not reinstall them.
COPY pyproject.toml ./
RUN python -c "import tomllib; print('\n'.join(tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']))" \
        > /tmp/requirements.txt \
    && pip install -r /tmp/requirements.txt \
    && rm /tmp/requirements.txt

COPY shared ./shared
COPY services ./services
RUN pip install --no-deps . \
    && rm -rf build ./*.egg-info

# A fixed uid so Kubernetes can check runAsNonRoot; data/ holds SQLite files if no database URL is set.
RUN useradd --system --uid 10001 --no-create-home --shell /usr/sbin/nologin thidua \
    && mkdir -p /app/data \
    && chown thidua /app/data
USER 10001

EXPOSE 8101
