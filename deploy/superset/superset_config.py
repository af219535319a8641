"""Superset's configuration, in docker-compose.yml and in `make bi-check`.

The metadata database (dashboards, users) is the `superset` database of the compose PostgreSQL,
or SUPERSET_METADATA_URL when set (`make bi-check` gives it a fresh database of its own). The
marts are a separate connection, created by importing the dashboard bundle, that logs in as the
read-only role planwh_bi (SELECT on schema marts only).
"""

import os
from urllib.parse import quote

SECRET_KEY = os.environ["SUPERSET_SECRET_KEY"]
SQLALCHEMY_DATABASE_URI = os.environ.get("SUPERSET_METADATA_URL") or (
    "postgresql+psycopg2://superset:{password}@{host}:5432/superset".format(
        password=quote(os.environ["SUPERSET_DB_PASSWORD"], safe=""),
        host=os.environ.get("SUPERSET_DB_HOST", "postgres"),
    )
)
ROW_LIMIT = 10000

# The dashboard's introduction shows the status colours as inline-styled labels, which Superset's
# HTML sanitizer drops unless allowed: the style attribute of span elements, nothing else.
HTML_SANITIZATION_SCHEMA_EXTENSIONS = {"attributes": {"span": ["style"]}}

# Superset 4.1's defaults less the outside hosts (a usage pixel, Mapbox): the deployments are on
# closed networks, and the browser then asks nothing of the Internet.
TALISMAN_CONFIG = {
    "content_security_policy": {
        "base-uri": ["'self'"],
        "default-src": ["'self'"],
        "img-src": ["'self'", "blob:", "data:"],
        "worker-src": ["'self'", "blob:"],
        "connect-src": ["'self'"],
        "object-src": "'none'",
        "style-src": ["'self'", "'unsafe-inline'"],
        "script-src": ["'self'", "'strict-dynamic'"],
    },
    "content_security_policy_nonce_in": ["script-src"],
    "force_https": False,
    "session_cookie_secure": False,
}
