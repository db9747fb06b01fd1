#!/bin/sh
# The pipeline image's entry for Spark's Kubernetes scheduler, which starts the driver's pod with
# the arguments `driver SUBMIT-ARGS...` and each executor's with `executor` and SPARK_* variables
# (the contract of Spark's own images, which ours, python:3.11-slim with pip's pyspark, is not).
# streaming.yaml's pod templates make it the containers' command.
set -eu
spark_home=$(python -c "import os, pyspark; print(os.path.dirname(pyspark.__file__))")
role=$1
shift
case "$role" in
  driver)
    exec spark-submit --deploy-mode client \
      --conf "spark.driver.bindAddress=$SPARK_DRIVER_BIND_ADDRESS" "$@"
    ;;
  executor)
    exec java -Xms"$SPARK_EXECUTOR_MEMORY" -Xmx"$SPARK_EXECUTOR_MEMORY" \
      -cp "$spark_home/jars/*" org.apache.spark.scheduler.cluster.k8s.KubernetesExecutorBackend \
      --driver-url "$SPARK_DRIVER_URL" --executor-id "$SPARK_EXECUTOR_ID" \
      --cores "$SPARK_EXECUTOR_CORES" --app-id "$SPARK_APPLICATION_ID" \
      --hostname "$SPARK_EXECUTOR_POD_IP" --resourceProfileId "$SPARK_RESOURCE_PROFILE_ID" \
      --podName "$SPARK_EXECUTOR_POD_NAME"
    ;;
  *)
    echo "spark-entrypoint.sh: expected driver or executor, not $role" >&2
    exit 2
    ;;
esac
