#!/bin/sh
# Runs once, when the postgres container initialises its volume: creates the
# Tenantflow owner role (migrations), the application role (no BYPASSRLS,
# owns nothing) and Temporal's role, each with its own password.
set -eu
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname postgres \
  -v owner_pw="$TENANTFLOW_OWNER_PASSWORD" -v app_pw="$TENANTFLOW_APP_PASSWORD" -v temporal_pw="$TEMPORAL_DB_PASSWORD" <<'SQL'
CREATE ROLE tenantflow_owner LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEROLE CREATEDB PASSWORD :'owner_pw';
CREATE ROLE tenantflow_app LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEROLE NOCREATEDB PASSWORD :'app_pw';
CREATE DATABASE tenantflow OWNER tenantflow_owner;
CREATE ROLE temporal LOGIN CREATEDB PASSWORD :'temporal_pw';
SQL
