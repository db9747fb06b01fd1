#!/bin/sh
# One-shot of docker-compose.yml (image curlimages/curl): the index template of infra/schemas.py
# for ELASTICSEARCH_INDEX and <index>-*, then the index itself, as `python -m infra up` installs
# them on the native stack; then the password of Kibana's own user, kibana_system
# (KIBANA_PASSWORD). Every call authenticates as ELASTICSEARCH_USERNAME. Safe to repeat.
set -eu
here=$(dirname "$0")
es=$ELASTICSEARCH_URL
index=$ELASTICSEARCH_INDEX
auth="$ELASTICSEARCH_USERNAME:$ELASTICSEARCH_PASSWORD"

template=$(mktemp)
sed "s/__ELASTICSEARCH_INDEX__/$index/g" "$here/elasticsearch/index_template.json" > "$template"
password=$(mktemp)
printf '{"password":"%s"}' "$KIBANA_PASSWORD" > "$password"

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

expect "$(curl -sS -u "$auth" -X PUT "$es/_index_template/$index" \
  -H 'Content-Type: application/json' --data-binary "@$template")" '*"acknowledged":true*'
expect "$(curl -sS -u "$auth" -X PUT "$es/$index")" \
  '*"acknowledged":true*' '*resource_already_exists_exception*'
expect "$(curl -sS -u "$auth" -X POST "$es/_security/user/kibana_system/_password" \
  -H 'Content-Type: application/json' --data-binary "@$password")" '{}'
