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
# the streaming checkpoints, Spark's cache of the Kafka connector's jars, the API's token
# store (named volumes; the token store's folder is the owner's alone), the alert log
# (docker-compose.yml's alertlog) and the API workers' metric files (STACK_DIR/api-metrics).
RUN useradd --uid 10001 --user-group --create-home --home-dir /home/pipeline \
      --shell /usr/sbin/nologin pipeline \
 && install -d -o pipeline -g pipeline /var/lib/pipeline/checkpoints /var/lib/pipeline/ivy \
      /var/lib/pipeline/stack /var/lib/pipeline/alerts \
 && install -d -m 0700 -o pipeline -g pipeline /var/lib/pipeline/api
COPY . .

USER 10001:10001
# In a container the API listens on its own network's interfaces (API_HOST); the code's folder
# is read-only, so the stack dir is the writable one prepared above, and the champion model's
# ONNX files are cached there too (MODEL_CACHE_DIR, model/registry.py).
ENV API_HOST=0.0.0.0 \
    STACK_DIR=/var/lib/pipeline/stack \
    MODEL_CACHE_DIR=/var/lib/pipeline/stack/models
# gunicorn's internal port (API_INTERNAL_PORT); clients reach it through nginx (docker-compose.yml).
EXPOSE 8001
# gunicorn with the options of ingest_api/server.py (gunicorn_config), written nowhere else.
CMD ["python", "-m", "ingest_api"]
