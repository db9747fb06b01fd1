#!/bin/sh
# One-shot of docker-compose.yml (image curlimages/curl): the index template of infra/schemas.py
# for ELASTICSEARCH_INDEX and <index>-*, then the index itself, as `python -m infra up` installs
# them on the native stack. Safe to repeat.
set -eu
here=$(dirname "$0")
es=$ELASTICSEARCH_URL
index=$ELASTICSEARCH_INDEX

template=$(mktemp)
sed "s/__ELASTICSEARCH_INDEX__/$index/g" "$here/elasticsearch/index_template.json" > "$template"

# expect ANSWER PATTERN...: go on if Elasticsearch's answer matches one of the shell patterns.
expect() {
  answer=$1
  shift
  echo "es-init: $answer"
  for pattern in "$@"; do
    case "$answer" in
      $pattern) return 0 ;;
    esac
  done
  exit 1
}

expect "$(curl -sS -X PUT "$es/_index_template/$index" \
  -H 'Content-Type: application/json' --data-binary "@$template")" '*"acknowledged":true*'
expect "$(curl -sS -X PUT "$es/$index")" \
  '*"acknowledged":true*' '*resource_already_exists_exception*'
