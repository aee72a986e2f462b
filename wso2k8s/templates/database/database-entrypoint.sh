#!/bin/bash
# Starts PostgreSQL on the volume; at first start makes the data directory, the user and the database.
# The password is read from the mounted Secret, never from the environment or the image. Written by wso2-kubernetes.
set -euo pipefail
: "${DB_NAME:?}" "${DB_USER:?}"
PASSWORD_FILE=${DB_PASSWORD_FILE:-/run/secrets/wso2db/database_password}
[ -s "$PASSWORD_FILE" ] || { echo "wso2-kubernetes: $PASSWORD_FILE is missing or empty (Secret not mounted?)" >&2; exit 78; }
if [ ! -s "$PGDATA/PG_VERSION" ]; then
  echo "wso2-kubernetes: first start: creating $PGDATA (database $DB_NAME, owner $DB_USER)"
  # Made aside and renamed at the end: a pod killed half-way starts over instead of finding half a cluster.
  rm -rf "$PGDATA.init"
  initdb -D "$PGDATA.init" -U "$DB_USER" --pwfile="$PASSWORD_FILE" --auth-host=scram-sha-256 \
         --auth-local=scram-sha-256 --no-locale -E UTF8 >/dev/null
  echo "CREATE DATABASE \"$DB_NAME\" OWNER \"$DB_USER\"" | postgres --single -D "$PGDATA.init" -c unix_socket_directories=/tmp postgres >/dev/null
  echo "host all all 0.0.0.0/0 scram-sha-256" >>"$PGDATA.init/pg_hba.conf"
  mv "$PGDATA.init" "$PGDATA"
else
  echo "wso2-kubernetes: using the existing data in $PGDATA"
fi
# A volume's fsGroup handling may have added group rights; PostgreSQL starts only on 0700 (or 0750).
chmod 0700 "$PGDATA"
exec postgres -D "$PGDATA" -c listen_addresses='*' -c unix_socket_directories=/tmp -c log_connections=off "$@"
