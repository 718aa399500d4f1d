# syntax=docker/dockerfile:1

# Build stage: linkbot and every dependency as wheels, so the final image needs
# neither a compiler nor the source tree.
FROM python:3.12-slim AS builder
WORKDIR /src
COPY pyproject.toml README.md ./
COPY linkbot ./linkbot
RUN pip wheel --no-cache-dir --wheel-dir /wheels ".[postgres]"

FROM python:3.12-slim
# Installed from the builder's wheels only: the image holds what was built, nothing newer.
RUN --mount=type=bind,from=builder,source=/wheels,target=/wheels \
    pip install --no-cache-dir --no-index --find-links /wheels "linkbot[postgres]" \
    && useradd --system --uid 10001 --user-group --home-dir /data --no-create-home linkbot \
    && mkdir /data && chown linkbot:linkbot /data

# PORT rather than LINKBOT_HTTP_LISTEN, which would win over the PORT a
# platform assigns: the platform's value replaces this one.
ENV PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    PORT=8080
# The SQLite default, linkbot.db in the working directory, lands on the volume.
# LINKBOT_DATABASE is left unset here so that DATABASE_URL, as a platform sets
# it, is not shadowed by a value baked into the image.
WORKDIR /data
VOLUME ["/data"]
EXPOSE 8080
USER 10001:10001

# 503 (no payment pass for too long) or no answer marks the container unhealthy.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; port = os.environ.get('LINKBOT_HTTP_LISTEN', '').rpartition(':')[2] or os.environ.get('PORT', '8080'); urllib.request.urlopen(f'http://127.0.0.1:{port}/healthz', timeout=4)"]

CMD ["linkbot"]
