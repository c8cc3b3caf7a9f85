#!/usr/bin/env bash
# System prerequisites of the appliance tests (tests/appliance), idempotent: Debian packages,
# a running Docker engine, and the debootstrap-built Debian base images (cached in
# /var/cache/praxiskern-ci, so a machine that ran this before only checks).
# Called by .ci/run before `npm test`; safe to run by hand.
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export PRAXISKERN_CACHE_DIR="${PRAXISKERN_CACHE_DIR:-/var/cache/praxiskern-ci}"
export DEBIAN_FRONTEND=noninteractive

packages=(docker.io docker-compose debootstrap ansible ansible-lint yamllint shellcheck openssl openssh-client python3)
missing=()
for pkg in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || missing+=("$pkg")
done
if [ "${#missing[@]}" -gt 0 ]; then
  echo "appliance-prereqs: installing ${missing[*]}"
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if ! docker info >/dev/null 2>&1; then
  if [ -d /run/systemd/system ]; then
    systemctl start docker
  else
    echo "appliance-prereqs: starting dockerd"
    nohup dockerd >/var/log/praxiskern-ci-dockerd.log 2>&1 &
  fi
  deadline=$((SECONDS + 90))
  until docker info >/dev/null 2>&1; do
    if [ "$SECONDS" -ge "$deadline" ]; then
      echo "appliance-prereqs: dockerd did not come up; see /var/log/praxiskern-ci-dockerd.log" >&2
      exit 1
    fi
    sleep 1
  done
fi

mkdir -p "$PRAXISKERN_CACHE_DIR"
"$repo/appliance/docker/build-base-images.sh" trixie bookworm
echo "appliance-prereqs: ready ($(docker version --format '{{.Server.Version}}'), base images present)"
