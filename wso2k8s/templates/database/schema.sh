#!/bin/bash
# Creates the WSO2 schemas from the pack's own dbscripts, once per database. SCHEMAS lists, one per line,
# "<database> <script file> <marker table>": the marker is the first table the script creates (REG_CLUSTER_LOCK,
# which Carbon's own DatabaseCreator checks; IDN_BASE_TABLE for dbscripts/identity/). When it is there the
# script is skipped; otherwise the whole script runs in one transaction, so a failure leaves no half schema and a
# retry starts clean. A database the embedded server does not have yet is created first. Written by wso2-kubernetes.
set -euo pipefail
: "${DB_HOST:?}" "${DB_PORT:?}" "${DB_USER:?}" "${SCHEMAS:?}" "${SCHEMA_DIR:=/schema}"
PGPASSWORD=$(cat "${DB_PASSWORD_FILE:-/run/secrets/wso2db/database_password}")
export PGPASSWORD PGCONNECT_TIMEOUT=5
started=$(date +%s)
until pg_isready -q -h "$DB_HOST" -p "$DB_PORT" -d postgres; do
  [ $(( $(date +%s) - started )) -lt 300 ] || { echo "wso2-kubernetes: $DB_HOST:$DB_PORT not ready after 300 s" >&2; exit 1; }
  sleep 1
done
psql() { command psql -X -q -v ON_ERROR_STOP=1 -h "$DB_HOST" -p "$DB_PORT" -U "$DB_USER" "$@"; }
while read -r db file marker; do
  [ -n "$db" ] || continue
  if [ "$(psql -d postgres -tA -c "SELECT count(*) FROM pg_database WHERE datname = '$db'")" = 0 ]; then
    psql -d postgres -c "CREATE DATABASE \"$db\" OWNER \"$DB_USER\""
    echo "wso2-kubernetes: database $db created"
  fi
  # Two creators at once: the second's transaction fails on the first's tables, the Job retries, finds them.
  if [ "$(psql -d "$db" -tA -c "SELECT to_regclass('$marker') IS NOT NULL")" = t ]; then
    echo "wso2-kubernetes: schema already present in $db (${marker^^} exists); $file not run again"
    continue
  fi
  before=$(psql -d "$db" -tA -c "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'")
  t0=$(date +%s%N)
  psql -d "$db" --single-transaction -f "$SCHEMA_DIR/${file//\//-}"  # mounted as dbscripts-identity-postgresql.sql
  t1=$(date +%s%N)
  after=$(psql -d "$db" -tA -c "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'")
  echo "wso2-kubernetes: schema created in $db from $file: $(( after - before )) tables in $(( (t1 - t0) / 1000000 )) ms"
done <<<"$SCHEMAS"
