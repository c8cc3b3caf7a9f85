#!/usr/bin/env bash
# Build the monitoring images from Debian's packages (prometheus, prometheus-alertmanager,
# prometheus-node-exporter, prometheus-postgres-exporter), for servers that cannot pull the
# pinned upstream images (air-gapped clinics, CI). Loki, Alloy and Grafana have no Debian
# package: they are left out (docs/monitoring.md).
#
#   appliance/docker/monitoring/build-monitoring-images.sh [--tag TAG] [--save DIR]
#
#   --tag TAG    image tag (default: the version in package.json)
#   --save DIR   also write `docker save` archives praxiskern-monitoring-<name>-<tag>.tar to DIR
#                (the role's praxiskern_monitoring_image_archive_dir)
#
# Environment:
#   BASE_IMAGE    Debian base (default the pinned upstream debian:trixie-20261110-slim; CI uses
#                 praxiskern-base/debian:trixie-slim from ../build-base-images.sh)
#   IMAGE_PREFIX  image name prefix (default praxiskern); images are <prefix>/monitoring-<name>:<tag>
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../../.." && pwd)"
base_image="${BASE_IMAGE:-debian:trixie-20261110-slim}"
prefix="${IMAGE_PREFIX:-praxiskern}"
tag=""
save_dir=""

while [ "$#" -gt 0 ]; do
  case "$1" in
    --tag)
      tag="$2"
      shift 2
      ;;
    --save)
      save_dir="$2"
      shift 2
      ;;
    -h | --help)
      sed -n '2,17p' "$0"
      exit 0
      ;;
    *)
      echo "unknown argument: $1" >&2
      exit 2
      ;;
  esac
done
if [ -z "$tag" ]; then
  tag="$(sed -n 's/^  "version": "\(.*\)",$/\1/p' "$repo/package.json" | head -1)"
fi

names=(prometheus alertmanager node-exporter postgres-exporter)
for name in "${names[@]}"; do
  image="$prefix/monitoring-$name:$tag"
  echo "building $image" >&2
  docker build --quiet --pull=false --build-arg "BASE_IMAGE=$base_image" --target "$name" \
    --tag "$image" "$here" >/dev/null
  if [ -n "$save_dir" ]; then
    mkdir -p "$save_dir"
    archive="$save_dir/praxiskern-monitoring-$name-$tag.tar"
    id="$(docker image inspect --format '{{.Id}}' "$image")"
    # Rewrite an archive only when its image changed.
    if [ ! -s "$archive" ] || [ "$(cat "$archive.id" 2>/dev/null)" != "$id" ]; then
      docker save --output "$archive.tmp" "$image"
      mv "$archive.tmp" "$archive"
      printf '%s' "$id" >"$archive.id"
    fi
  fi
  echo "$image"
done
