#!/bin/sh
# `praxiskern` inside the app image: the container's entrypoint and the admin CLI on PATH
# (`docker compose exec app praxiskern status`).
#
# The bundle hands database passwords to the container as secret files, never as environment
# values. When PRAXISKERN_DB_HOST is set, this wrapper assembles DATABASE_URL (app role),
# DATABASE_OWNER_URL (owner role; only where its password file is mounted: the init service and
# the worker, never the app) and DATABASE_SUPERUSER_URL (only in the one-shot init service) from
# those files, and the OIDC client secret from PRAXISKERN_OIDC_CLIENT_SECRET_FILE, then runs the CLI.
set -eu

read_password() {
  # Passwords are generated URL-safe by the installer; refuse anything that would need escaping.
  pw=$(tr -d '\r\n' <"$1")
  case "$pw" in
    '' | *[!A-Za-z0-9._~-]*)
      echo "praxiskern: $1 must hold a non-empty password of the characters A-Z a-z 0-9 . _ ~ -" >&2
      exit 64
      ;;
  esac
  printf '%s' "$pw"
}

if [ -n "${PRAXISKERN_DB_HOST:-}" ]; then
  db="${PRAXISKERN_DB_HOST}:${PRAXISKERN_DB_PORT:-5432}"
  name="${PRAXISKERN_DB_NAME:-praxiskern}"
  if [ -z "${DATABASE_URL:-}" ] && [ -r "${PRAXISKERN_DB_APP_PASSWORD_FILE:-/nonexistent}" ]; then
    DATABASE_URL="postgres://praxiskern_app:$(read_password "$PRAXISKERN_DB_APP_PASSWORD_FILE")@${db}/${name}"
    export DATABASE_URL
  fi
  if [ -z "${DATABASE_OWNER_URL:-}" ] && [ -r "${PRAXISKERN_DB_OWNER_PASSWORD_FILE:-/nonexistent}" ]; then
    DATABASE_OWNER_URL="postgres://praxiskern_owner:$(read_password "$PRAXISKERN_DB_OWNER_PASSWORD_FILE")@${db}/${name}"
    export DATABASE_OWNER_URL
  fi
  if [ -z "${DATABASE_SUPERUSER_URL:-}" ] && [ -r "${PRAXISKERN_DB_SUPERUSER_PASSWORD_FILE:-/nonexistent}" ]; then
    DATABASE_SUPERUSER_URL="postgres://postgres:$(read_password "$PRAXISKERN_DB_SUPERUSER_PASSWORD_FILE")@${db}/postgres"
    export DATABASE_SUPERUSER_URL
  fi
fi

# The OIDC client secret issued by the clinic's IdP, also handed over as a file.
if [ -z "${PRAXISKERN_OIDC_CLIENT_SECRET:-}" ] && [ -s "${PRAXISKERN_OIDC_CLIENT_SECRET_FILE:-/nonexistent}" ]; then
  PRAXISKERN_OIDC_CLIENT_SECRET=$(tr -d '\r\n' <"$PRAXISKERN_OIDC_CLIENT_SECRET_FILE")
  export PRAXISKERN_OIDC_CLIENT_SECRET
fi

exec node "${PRAXISKERN_HOME:-/opt/praxiskern}/appliance/src/cli.ts" "$@"
