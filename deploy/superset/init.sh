#!/usr/bin/env bash
# Superset's set-up, idempotent: migrations, the admin, roles and permissions, then the dashboard
# bundle of this project. Run as is by the compose service superset-init and by `make bi-check`
# (tests/deploy/test_compose.py checks compose runs this file), so the check proves the import
# production runs.
#
# Environment: SUPERSET_ADMIN_PASSWORD, PLANWH_BI_PASSWORD (planwh_bi's password, written into
# the bundle's copy of the connection only), and optionally PLANWH_BI_WAREHOUSE_URL: where the
# marts are, when not at the compose host postgres:5432/planwh (the login is always planwh_bi).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

superset db upgrade
superset fab create-admin --username admin --firstname Superset --lastname Admin \
    --email admin@localhost --password "${SUPERSET_ADMIN_PASSWORD:?}"
superset init

workdir="$(mktemp -d)"
trap 'rm -rf "$workdir"' EXIT
python "$here/build_bundle.py" "$workdir/planwh_dashboard.zip" --password-env PLANWH_BI_PASSWORD \
    ${PLANWH_BI_WAREHOUSE_URL:+--warehouse-url "$PLANWH_BI_WAREHOUSE_URL"}
superset import-dashboards -p "$workdir/planwh_dashboard.zip" -u admin
