#!/usr/bin/env bash
# Applies Treue's MySQL migrations to a Vitess cluster: each statement to the
# keyspace of the table it names (shops and api_tokens to treue_global, the
# rest to the sharded keyspace treue), then records the migration in
# treue_global.schema_migrations, as `treue migrate` does on one server.
#
#   VTGATE_MYSQL='-h vtgate -P 15306 -u treue -psecret' deploy/vitess/apply-schema.sh
#
# Needs vtctldclient (with VTCTLD_SERVER, default localhost:15999) and mysql.
# Statements are split like Treue's migrate: at a semicolon that ends a line,
# comment lines dropped.
set -euo pipefail
cd "$(dirname "$0")/../.."
server="${VTCTLD_SERVER:-localhost:15999}"
read -r -a mysql_args <<<"${VTGATE_MYSQL:?set VTGATE_MYSQL to the mysql client options for vtgate}"
vtmysql() { mysql "${mysql_args[@]}" --batch --skip-column-names "$@"; }

vtmysql -e "CREATE TABLE IF NOT EXISTS treue_global.schema_migrations (version INT NOT NULL PRIMARY KEY, name VARCHAR(255) NOT NULL, applied_at DATETIME(6) NOT NULL)" 2>/dev/null ||
  vtctldclient --server "$server" ApplySchema --sql "CREATE TABLE IF NOT EXISTS schema_migrations (version INT NOT NULL PRIMARY KEY, name VARCHAR(255) NOT NULL, applied_at DATETIME(6) NOT NULL)" treue_global
have=$(vtmysql -e "SELECT COALESCE(MAX(version), 0) FROM treue_global.schema_migrations")

for file in models/store/migrations/mysql/*.sql; do
  name=$(basename "$file")
  version=$((10#${name%%_*}))
  [ "$version" -le "$have" ] && continue
  global=$(mktemp) sharded=$(mktemp)
  awk -v global="$global" -v sharded="$sharded" '
    /^[[:space:]]*(--|$)/ { next }
    { stmt = stmt $0 "\n" }
    /;[[:space:]]*$/ {
      s = tolower(stmt)
      out = sharded
      if (s ~ /(table|on|into)[[:space:]]+`?(shops|api_tokens)`?[[:space:](;]/) out = global
      printf "%s", stmt >> out
      stmt = ""
    }' "$file"
  for pair in "treue_global:$global" "treue:$sharded"; do
    ks=${pair%%:*} sql=${pair#*:}
    if [ -s "$sql" ]; then
      echo "$name → $ks"
      vtctldclient --server "$server" ApplySchema --ddl-strategy direct --sql-file "$sql" "$ks"
    fi
  done
  rm -f "$global" "$sharded"
  vtmysql -e "INSERT INTO treue_global.schema_migrations (version, name, applied_at) VALUES ($version, '$name', UTC_TIMESTAMP(6))"
done
echo "schema at version $(vtmysql -e "SELECT MAX(version) FROM treue_global.schema_migrations")"
