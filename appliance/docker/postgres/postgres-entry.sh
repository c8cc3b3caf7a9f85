#!/bin/sh
# Entrypoint of the praxiskern-postgres image. Starts as root only to read the superuser
# password secret and fix the data directory's ownership, initialises the cluster on first
# start, then runs PostgreSQL as the unprivileged postgres user.
#
#   POSTGRES_PASSWORD_FILE   file with the superuser password (required on first start)
#   PGDATA                   data directory (default /var/lib/postgresql/data)
#   POSTGRES_INITDB_ARGS     extra initdb arguments
set -eu

: "${PGDATA:=/var/lib/postgresql/data}"

as_postgres() {
  if [ "$(id -u)" = 0 ]; then
    setpriv --reuid=postgres --regid=postgres --init-groups -- "$@"
  else
    "$@"
  fi
}

if [ "${1:-postgres}" != postgres ]; then
  exec "$@"
fi

if [ "$(id -u)" = 0 ]; then
  install -d -o postgres -g postgres -m 0700 "$PGDATA"
  chown postgres:postgres "$PGDATA"
  install -d -o postgres -g postgres -m 2775 /var/run/postgresql
fi

if [ ! -s "$PGDATA/PG_VERSION" ]; then
  if [ ! -r "${POSTGRES_PASSWORD_FILE:-/nonexistent}" ]; then
    echo "postgres-entry: POSTGRES_PASSWORD_FILE must name a readable file on first start" >&2
    exit 64
  fi
  pwfile=$(mktemp)
  tr -d '\r\n' <"$POSTGRES_PASSWORD_FILE" >"$pwfile"
  [ "$(id -u)" = 0 ] && chown postgres "$pwfile"
  # shellcheck disable=SC2086 # POSTGRES_INITDB_ARGS is a list of arguments
  as_postgres initdb --pgdata="$PGDATA" --username=postgres --pwfile="$pwfile" \
    --auth-local=peer --auth-host=scram-sha-256 --encoding=UTF8 --locale=C.UTF-8 \
    --data-checksums ${POSTGRES_INITDB_ARGS:-} >/dev/null
  rm -f "$pwfile"
  {
    echo "# Praxiskern bundle: reachable only on the compose bundle's internal network."
    echo "listen_addresses = '*'"
    echo "password_encryption = 'scram-sha-256'"
    echo "log_timezone = 'Europe/Berlin'"
    echo "timezone = 'UTC'"
    echo "log_connections = on"
    echo "log_disconnections = on"
    echo "log_line_prefix = '%m [%p] %q%u@%d '"
  } >>"$PGDATA/postgresql.conf"
  echo "host all all all scram-sha-256" >>"$PGDATA/pg_hba.conf"
  echo "postgres-entry: initialised a new cluster in $PGDATA"
fi

if [ "$(id -u)" = 0 ]; then
  exec setpriv --reuid=postgres --regid=postgres --init-groups -- postgres -D "$PGDATA"
fi
exec postgres -D "$PGDATA"
