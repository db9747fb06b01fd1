#!/bin/sh
# One-shot of docker-compose.yml (image minio/mc): the buckets of DATASET_ROOT and MLFLOW_BUCKET
# (the model registry's artifacts and alias history) on MinIO, as `python -m infra up` makes them
# on the native stack. Safe to repeat.
set -eu

mc alias set pipeline "$S3_ENDPOINT_URL" "$AWS_ACCESS_KEY_ID" "$AWS_SECRET_ACCESS_KEY"
mc mb --ignore-existing "pipeline/$MLFLOW_BUCKET"

case "$DATASET_ROOT" in
  s3://*) ;;
  *) echo "minio-init: DATASET_ROOT=$DATASET_ROOT is not an s3:// root: no bucket to create"; exit 0 ;;
esac
bucket=${DATASET_ROOT#s3://}
bucket=${bucket%%/*}
mc mb --ignore-existing "pipeline/$bucket"
