"""Superset's configuration in docker-compose.yml: its secret key and metadata database from the environment.

The metadata database (dashboards, users) is the `superset` database of the compose PostgreSQL.
The marts are a separate connection, created by importing the dashboard bundle, that logs in as
the read-only role planwh_bi (SELECT on schema marts only).
"""

import os
from urllib.parse import quote

SECRET_KEY = os.environ["SUPERSET_SECRET_KEY"]
SQLALCHEMY_DATABASE_URI = "postgresql+psycopg2://superset:{password}@{host}:5432/superset".format(
    password=quote(os.environ["SUPERSET_DB_PASSWORD"], safe=""),
    host=os.environ.get("SUPERSET_DB_HOST", "postgres"),
)
ROW_LIMIT = 10000
