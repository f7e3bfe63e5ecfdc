# One image for every role: `ar serve` (default), `ar migrate`, `ar worker`.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

RUN groupadd --system --gid 10001 ar \
 && useradd --system --uid 10001 --gid ar --home-dir /app --no-create-home --shell /usr/sbin/nologin ar \
 && mkdir -p /data \
 && chown ar:ar /data

WORKDIR /app

# pyproject.toml, services/, migrations/, alembic.ini (if any) — see .dockerignore.
COPY . .
RUN pip install --no-cache-dir . \
 && rm -rf build services/*.egg-info

ENV AR_DATABASE_URL=sqlite:////data/ar.sqlite \
    AR_OUTBOX_DIR=/data/outbox
VOLUME /data
USER ar
EXPOSE 8000

CMD ["ar", "serve", "--host", "0.0.0.0", "--port", "8000"]
