#!/bin/bash
# Creates the WSO2 schema from the pack's own dbscripts/postgresql.sql, once: when the marker table Carbon's own
# DatabaseCreator checks (REG_CLUSTER_LOCK) is there, it does nothing; otherwise the whole script runs in one
# transaction, so a failure leaves no half schema and a retry starts clean. Written by wso2-kubernetes.
set -euo pipefail
: "${DB_HOST:?}" "${DB_PORT:?}" "${DB_NAME:?}" "${DB_USER:?}" "${SCHEMA_FILE:?}"
PGPASSWORD=$(cat "${DB_PASSWORD_FILE:-/run/secrets/wso2db/database_password}")
export PGPASSWORD PGCONNECT_TIMEOUT=5
started=$(date +%s)
until pg_isready -q -h "$DB_HOST" -p "$DB_PORT" -d "$DB_NAME"; do
  [ $(( $(date +%s) - started )) -lt 300 ] || { echo "wso2-kubernetes: $DB_HOST:$DB_PORT not ready after 300 s" >&2; exit 1; }
  sleep 1
done
psql=(psql -X -q -v ON_ERROR_STOP=1 -h "$DB_HOST" -p "$DB_PORT" -U "$DB_USER" -d "$DB_NAME")
# Two creators at once: the second's transaction fails on the first's tables, the Job retries, finds them.
present=$("${psql[@]}" -tA -c "SELECT to_regclass('reg_cluster_lock') IS NOT NULL")
if [ "$present" = t ]; then
  echo "wso2-kubernetes: schema already present in $DB_NAME (REG_CLUSTER_LOCK exists); nothing to do"
  exit 0
fi
t0=$(date +%s%N)
"${psql[@]}" --single-transaction -f "$SCHEMA_FILE"
t1=$(date +%s%N)
tables=$("${psql[@]}" -tA -c "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'")
echo "wso2-kubernetes: schema created from $(basename "$SCHEMA_FILE"): $tables tables in $(( (t1 - t0) / 1000000 )) ms"
