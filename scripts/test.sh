#!/usr/bin/env bash
# Runs every Cairn test on a fresh Debian machine: installs and starts what the tests need (PostgreSQL), then `dotnet test`.
# Usage: scripts/test.sh [extra dotnet test arguments]
set -euo pipefail
cd "$(dirname "$0")/.."

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

if ! command -v dotnet >/dev/null 2>&1; then
  echo "test.sh: the .NET 10 SDK is required (https://dotnet.microsoft.com/download); 'dotnet' is not on PATH." >&2
  exit 1
fi

# PostgreSQL: the storage compliance suite and the server tests run against a real server.
if ! command -v pg_lsclusters >/dev/null 2>&1 || [ -z "$(ls /usr/lib/postgresql 2>/dev/null)" ]; then
  echo "test.sh: installing PostgreSQL from Debian's packages"
  as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
fi

# Chromium: the web UI's browser tests drive Debian's Chromium through Playwright (which never downloads a browser here).
if [ ! -x /usr/bin/chromium ]; then
  echo "test.sh: installing Chromium from Debian's packages"
  as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
fi

pg_version=$(ls /usr/lib/postgresql | sort -V | tail -n 1)
if ! pg_lsclusters -h | awk '{print $1" "$2}' | grep -q "^$pg_version main$"; then
  as_root pg_createcluster "$pg_version" main >/dev/null
fi
if ! pg_lsclusters -h | awk -v v="$pg_version" '$1==v && $2=="main" {print $4}' | grep -q online; then
  as_root pg_ctlcluster "$pg_version" main start
fi
pg_port=$(pg_lsclusters -h | awk -v v="$pg_version" '$1==v && $2=="main" {print $3}')
for _ in $(seq 1 30); do
  as_root su postgres -c "psql -p $pg_port -qAtc 'select 1'" >/dev/null 2>&1 && break
  sleep 1
done
as_root su postgres -c "psql -p $pg_port -qc \"ALTER USER postgres PASSWORD 'postgres'\"" >/dev/null
export CAIRN_TEST_POSTGRES="Host=127.0.0.1;Port=$pg_port;Username=postgres;Password=postgres;Database=postgres"

export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
dotnet test Cairn.slnx "$@"
