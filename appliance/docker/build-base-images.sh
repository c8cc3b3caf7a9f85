#!/usr/bin/env bash
# Build local Debian base images that stand in for the upstream `debian:<suite>-slim`
# images when no image registry is reachable (CI, air-gapped release builds).
#
#   appliance/docker/build-base-images.sh [--force] [suite...]     (default suites: trixie bookworm)
#
# Each suite becomes `praxiskern-base/debian:<suite>-slim`, built with debootstrap
# (variant minbase) from a Debian mirror and loaded with `docker import`. The result is the
# same minimal userland the upstream slim image ships (dpkg/apt, no docs or man pages), so
# the Dockerfiles under appliance/docker/ build unchanged on either base.
#
# Environment:
#   DEBIAN_MIRROR          mirror to bootstrap from (default http://deb.debian.org/debian)
#   PRAXISKERN_CACHE_DIR   root filesystem tarballs are cached here (default /var/cache/praxiskern-ci)
#   BASE_IMAGE_PREFIX      image name prefix (default praxiskern-base/debian)
set -euo pipefail

mirror="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"
cache_dir="${PRAXISKERN_CACHE_DIR:-/var/cache/praxiskern-ci}/base"
prefix="${BASE_IMAGE_PREFIX:-praxiskern-base/debian}"
force=false
suites=()

for arg in "$@"; do
  case "$arg" in
    --force) force=true ;;
    -h | --help)
      sed -n '2,16p' "$0"
      exit 0
      ;;
    -*)
      echo "unknown option: $arg" >&2
      exit 2
      ;;
    *) suites+=("$arg") ;;
  esac
done
if [ "${#suites[@]}" -eq 0 ]; then
  suites=(trixie bookworm)
fi

for tool in debootstrap docker tar; do
  command -v "$tool" >/dev/null || {
    echo "missing tool: $tool" >&2
    exit 1
  }
done
mkdir -p "$cache_dir"

slim_rootfs() {
  local root="$1"
  # The same dpkg path exclusions the upstream slim images use, so later apt installs stay small.
  cat >"$root/etc/dpkg/dpkg.cfg.d/docker-slim" <<'EOF'
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/groff/*
path-exclude /usr/share/info/*
path-exclude /usr/share/lintian/*
path-exclude /usr/share/linda/*
path-exclude /usr/share/locale/*
EOF
  cat >"$root/etc/apt/apt.conf.d/docker-clean" <<'EOF'
DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
APT::Update::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
Dir::Cache::pkgcache "";
Dir::Cache::srcpkgcache "";
EOF
  cat >"$root/etc/apt/apt.conf.d/docker-no-recommends" <<'EOF'
APT::Install-Recommends "false";
APT::Install-Suggests "false";
EOF
  find "$root/usr/share/doc" -mindepth 2 ! -name copyright -delete 2>/dev/null || true
  find "$root/usr/share/doc" -mindepth 1 -type d -empty -delete 2>/dev/null || true
  rm -rf "$root"/usr/share/man/* "$root"/usr/share/info/* "$root"/usr/share/locale/* \
    "$root"/var/lib/apt/lists/* "$root"/var/cache/apt/*.bin "$root"/var/cache/apt/archives/*.deb \
    "$root"/var/log/*.log "$root"/var/log/apt/* "$root"/tmp/* "$root"/etc/machine-id
  : >"$root/etc/hostname"
  printf 'nameserver 127.0.0.53\n' >"$root/etc/resolv.conf"
}

build_suite() {
  local suite="$1"
  local image="$prefix:$suite-slim"
  local tarball="$cache_dir/debian-$suite-slim.tar"

  if [ "$force" = false ] && docker image inspect "$image" >/dev/null 2>&1; then
    echo "base image $image exists"
    return
  fi
  if [ "$force" = true ] || [ ! -s "$tarball" ]; then
    local root
    root="$(mktemp -d "${TMPDIR:-/tmp}/praxiskern-rootfs-$suite.XXXXXX")"
    echo "bootstrapping Debian $suite from $mirror"
    debootstrap --variant=minbase --arch=amd64 "$suite" "$root" "$mirror" >"$cache_dir/debootstrap-$suite.log" 2>&1 || {
      tail -20 "$cache_dir/debootstrap-$suite.log" >&2
      rm -rf "$root"
      exit 1
    }
    printf 'deb %s %s main\ndeb %s %s-updates main\ndeb http://deb.debian.org/debian-security %s-security main\n' \
      "$mirror" "$suite" "$mirror" "$suite" "$suite" >"$root/etc/apt/sources.list"
    slim_rootfs "$root"
    tar --numeric-owner --xattrs -C "$root" -cf "$tarball.tmp" .
    mv "$tarball.tmp" "$tarball"
    rm -rf "$root"
  fi
  docker import \
    --change 'ENV LANG=C.UTF-8' \
    --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change 'CMD ["bash"]' \
    "$tarball" "$image" >/dev/null
  echo "built base image $image"
}

for suite in "${suites[@]}"; do
  build_suite "$suite"
done
