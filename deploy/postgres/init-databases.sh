#!/usr/bin/env bash
# First start of the compose PostgreSQL (an empty data volume): one database and one owner login
# each for Airflow's metadata, the warehouse, the national shared database (default) and Superset's
# metadata. Nobody else may connect to them; `planwh roles apply` (the airflow-init service) then
# creates the duty roles (loader, transformer, sync, BI reader) and grants them what they need,
# which is why planwh_app has CREATEROLE. Passwords come from the container environment (.env).
set -euo pipefail
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname postgres \
  -v airflow_pw="$AIRFLOW_DB_PASSWORD" -v app_pw="$PLANWH_APP_PASSWORD" -v superset_pw="$SUPERSET_DB_PASSWORD" <<'SQL'
create role airflow login password :'airflow_pw';
create role planwh_app login createrole password :'app_pw';
create role superset login password :'superset_pw';
create database airflow owner airflow;
create database planwh owner planwh_app;
create database planwh_national owner planwh_app;
create database superset owner superset;
revoke all on database airflow, planwh, planwh_national, superset from public;
SQL
