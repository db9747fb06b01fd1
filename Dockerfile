# One image for the ingest API and the streaming job; docker-compose.yml runs both from it.
# Configuration comes only from the environment (settings.py); no secret is baked in.
FROM python:3.11-slim-bookworm

# Spark 4 runs on Java 17; Spark's launch scripts call `ps` (procps). The man directory is
# missing from slim images and the JRE's post-install step expects it.
RUN mkdir -p /usr/share/man/man1 \
 && apt-get update \
 && apt-get install -y --no-install-recommends openjdk-17-jre-headless procps \
 && rm -rf /var/lib/apt/lists/*

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PYTHONPATH=/app \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app
COPY requirements.txt .
RUN pip install -r requirements.txt

# The code stays root-owned, read-only to the service user; only its state is writable:
# the streaming checkpoints, Spark's cache of the Kafka connector's jars and the API's token
# store (named volumes; the token store's folder is the owner's alone).
RUN useradd --uid 10001 --user-group --create-home --home-dir /home/pipeline \
      --shell /usr/sbin/nologin pipeline \
 && install -d -o pipeline -g pipeline /var/lib/pipeline/checkpoints /var/lib/pipeline/ivy \
 && install -d -m 0700 -o pipeline -g pipeline /var/lib/pipeline/api
COPY . .

USER 10001:10001
EXPOSE 8000
CMD ["gunicorn", "ingest_api:create_app()", "--bind", "0.0.0.0:8000", "--worker-class", "gthread", \
     "--workers", "2", "--threads", "4", "--timeout", "30", "--no-control-socket"]
