#!/bin/sh
# One-shot of docker-compose.yml (image curlimages/curl): imports kibana/saved_objects.ndjson, a
# data view of ELASTICSEARCH_INDEX and a map of its photos, overwriting earlier imports. Kibana's
# API takes the Elasticsearch user ELASTICSEARCH_USERNAME and its password.
set -eu
here=$(dirname "$0")
kibana=${KIBANA_URL:-http://kibana:5601}

# Kibana takes only files named *.ndjson.
objects="$(mktemp -d)/saved_objects.ndjson"
sed "s/__ELASTICSEARCH_INDEX__/$ELASTICSEARCH_INDEX/g" "$here/kibana/saved_objects.ndjson" > "$objects"

# A refused object still answers 200, with "success":false and the reasons.
answer=$(curl -sS -u "$ELASTICSEARCH_USERNAME:$ELASTICSEARCH_PASSWORD" \
  -X POST "$kibana/api/saved_objects/_import?overwrite=true" \
  -H 'kbn-xsrf: true' --form "file=@$objects")
echo "kibana-init: $answer"
case "$answer" in
  *'"success":true'*) ;;
  *) exit 1 ;;
esac
