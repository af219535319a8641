#!/usr/bin/env bash
# First start of the compose PostgreSQL: one database and one owner role each for Airflow's
# metadata, the warehouse, the national shared database (default) and Superset's own metadata.
# Passwords come from the container environment (from .env), never from this file.
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
SQL
