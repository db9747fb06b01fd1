#!/usr/bin/env bash
# Vendor the map's JavaScript libraries from the npm registry into this folder, pinned and checked.
# Run from anywhere: ingest_api/static/vendor/fetch.sh. Needs npm; writes <name>-<version>/.
set -euo pipefail
cd "$(dirname "$0")"

# name, version, sha256 of the npm tarball, then the tarball's files to keep (under package/)
vendor() {
  local name=$1 version=$2 sha256=$3; shift 3
  local work; work=$(mktemp -d)
  (cd "$work" && npm pack --silent "$name@$version" >/dev/null)
  echo "$sha256  $work/$name-$version.tgz" | sha256sum --check --quiet
  tar xzf "$work/$name-$version.tgz" -C "$work"
  rm -rf "$name-$version" && mkdir -p "$name-$version"
  for file in "$@"; do
    mkdir -p "$name-$version/$(dirname "$file")"
    cp -r "$work/package/$file" "$name-$version/$file"
  done
  rm -rf "$work"
}

vendor leaflet 1.9.4 84c65a256e50657896f54c33bd857b6849ebe94c817803be818bf32a3dde0b77 \
  LICENSE dist/leaflet.js dist/leaflet.css dist/images
vendor leaflet.markercluster 1.5.3 fc6b0b1d00b6c708ae54e43ee4a11ac345e41660e19f0a570190bb35babb1a1c \
  MIT-LICENCE.txt dist/leaflet.markercluster.js dist/MarkerCluster.css dist/MarkerCluster.Default.css

find leaflet-1.9.4 leaflet.markercluster-1.5.3 -type f | sort | xargs sha256sum > SHA256SUMS
