#!/bin/sh
# The MLflow server of docker-compose.yml and infra/k8s/mlflow.yaml, configured from the
# pipeline's own settings (.env.example) as infra/mlflow_server.py configures the native one:
# SQLite stores and the basic-auth ini in STATE (default /var/lib/mlflow, a volume), artifacts
# proxied to s3://MLFLOW_BUCKET/artifacts, basic auth with MLFLOW_USERNAME / MLFLOW_PASSWORD as
# the admin (a checked credential trusted for 60 s), one worker, no job runner. It listens on every interface of its container, and
# answers only requests addressed to MLFLOW_TRACKING_URI's host or to localhost (MLflow's
# protection against DNS rebinding). Usage: start.sh [STATE]
set -eu
state=${1:-/var/lib/mlflow}
port=${MLFLOW_PORT:-5000}

# The same Flask secret key on every start: made once, kept with the state.
if [ ! -s "$state/flask_secret_key" ]; then
  (umask 077 && python3 -c 'import secrets; print(secrets.token_hex(32))' > "$state/flask_secret_key")
fi
(umask 077 && cat > "$state/basic_auth.ini" <<INI
[mlflow]
default_permission = READ
database_uri = sqlite:///$state/basic_auth.db
admin_username = $MLFLOW_USERNAME
authorization_function = mlflow.server.auth:authenticate_request_basic_auth
grant_default_workspace_access = false
auth_cache_ttl_seconds = 60
INI
)

address=${MLFLOW_TRACKING_URI#*://}
address=${address%%/*}
host=${address%%:*}

export MLFLOW_SERVER_ENABLE_JOB_EXECUTION=false
export MLFLOW_AUTH_CONFIG_PATH="$state/basic_auth.ini"
export MLFLOW_AUTH_ADMIN_PASSWORD="$MLFLOW_PASSWORD"
export MLFLOW_FLASK_SERVER_SECRET_KEY="$(cat "$state/flask_secret_key")"
export MLFLOW_S3_ENDPOINT_URL="$S3_ENDPOINT_URL"
exec mlflow server \
  --backend-store-uri "sqlite:///$state/mlflow.db" \
  --artifacts-destination "s3://$MLFLOW_BUCKET/artifacts" \
  --host 0.0.0.0 \
  --port "$port" \
  --workers 1 \
  --app-name basic-auth \
  --allowed-hosts "$host,$host:$port,localhost,localhost:$port,127.0.0.1,127.0.0.1:$port"
