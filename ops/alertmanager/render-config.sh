#!/bin/sh
# Renders the Alertmanager configuration template from the environment, then runs the rest of
# the command line (the alertmanager binary) in its place:
#
#   render-config.sh TEMPLATE OUTPUT [COMMAND ARGS...]
#
# ${NAME} is replaced by the variable NAME (an empty one is an error, so a missing mail address
# stops the container instead of silently dropping alerts); a line ending in "# if NAME" is left
# out when NAME is empty; comment lines are copied as they are. Runs under the busybox sh and awk of the alertmanager image.
set -eu

if [ "$#" -lt 2 ]; then
  echo "usage: render-config.sh TEMPLATE OUTPUT [COMMAND ARGS...]" >&2
  exit 2
fi
template=$1
output=$2
shift 2

PRAXISKERN_ALERT_SMTP_REQUIRE_TLS=${PRAXISKERN_ALERT_SMTP_REQUIRE_TLS:-true}
export PRAXISKERN_ALERT_SMTP_REQUIRE_TLS
case "$PRAXISKERN_ALERT_SMTP_REQUIRE_TLS" in
  true | false) ;;
  *)
    echo "render-config: PRAXISKERN_ALERT_SMTP_REQUIRE_TLS must be true or false" >&2
    exit 1
    ;;
esac
# How long a group waits before it notifies about a change (new or resolved alerts); only
# acceptance tests shorten it (role variable praxiskern_monitoring_acceptance_test_for).
PRAXISKERN_ALERT_GROUP_INTERVAL=${PRAXISKERN_ALERT_GROUP_INTERVAL:-5m}
export PRAXISKERN_ALERT_GROUP_INTERVAL
case "$PRAXISKERN_ALERT_GROUP_INTERVAL" in
  *[!0-9smh]* | [!0-9]* | *[!smh])
    echo "render-config: PRAXISKERN_ALERT_GROUP_INTERVAL must be a duration like 5m" >&2
    exit 1
    ;;
esac

awk '
  function fail(msg) { print "render-config: " msg > "/dev/stderr"; failed = 1; exit 1 }
  {
    line = $0
    if (line ~ /^[ \t]*#/) { print line; next }
    if (match(line, /# if [A-Z_][A-Z0-9_]*$/)) {
      if (ENVIRON[substr(line, RSTART + 5)] == "") next
    }
    out = ""
    while (match(line, /\$\{[A-Z_][A-Z0-9_]*\}/)) {
      name = substr(line, RSTART + 2, RLENGTH - 3)
      value = ENVIRON[name]
      if (value == "") fail("line " NR ": " name " is not set")
      gsub(/\047/, "\047\047", value)
      out = out substr(line, 1, RSTART - 1) value
      line = substr(line, RSTART + RLENGTH)
    }
    print out line
  }
  END { if (failed) exit 1 }
' "$template" >"$output.tmp"
mv "$output.tmp" "$output"

if [ "$#" -gt 0 ]; then
  exec "$@"
fi
