#!/usr/bin/env bash
# Makes sure PostgreSQL's server binaries (initdb, pg_ctl, postgres) exist for the tests, which start a
# throw-away cluster (test/helpers/postgres.ts). A no-op when initdb is found; otherwise installs Debian's
# postgresql package with apt-get (needs root, or sudo).
set -euo pipefail
if command -v initdb >/dev/null 2>&1 || [ -x /usr/local/bin/initdb ] || compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null; then
  exit 0
fi
SUDO=""
if [ "$(id -u)" != 0 ]; then SUDO="sudo"; fi
echo "ensure-postgres: initdb not found; installing Debian's postgresql" >&2
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends postgresql >/dev/null
# Debian's package starts a cluster of its own; the tests do not need it.
$SUDO service postgresql stop >/dev/null 2>&1 || true
