# The production image: Airflow 3.3 with this project installed from the same pinned lock that
# `make demo` and CI use. Built by docker-compose.yml for every Airflow service (and its init).
FROM apache/airflow:3.3.2-python3.11

USER root
# The state, landing and auth folders are volumes in docker-compose.yml; created here so that a new
# named volume starts out writable by the airflow user (uid 50000, or AIRFLOW_UID with group 0).
RUN apt-get update \
    && apt-get install -y --no-install-recommends make \
    && rm -rf /var/lib/apt/lists/* \
    && mkdir -p /opt/planwh/state /opt/planwh/landing /opt/airflow/auth \
    && chown -R airflow:0 /opt/planwh /opt/airflow/auth \
    && chmod -R g+rwX /opt/planwh /opt/airflow/auth
USER airflow

WORKDIR /opt/planwh
COPY --chown=airflow:0 requirements.lock pyproject.toml ./
# The image's Python environment is the virtualenv ~/.local (VIRTUAL_ENV), which uv installs into.
RUN pip install --no-cache-dir uv==0.13.8 \
    && uv pip install --no-cache --python "$(command -v python)" -r requirements.lock
COPY --chown=airflow:0 include ./include
COPY --chown=airflow:0 dags ./dags
COPY --chown=airflow:0 dbt_project ./dbt_project
COPY --chown=airflow:0 expectations ./expectations
RUN uv pip install --no-cache --python "$(command -v python)" --no-deps -e .

ENV AIRFLOW__CORE__DAGS_FOLDER=/opt/planwh/dags \
    AIRFLOW__CORE__LOAD_EXAMPLES=False \
    AIRFLOW__COSMOS__ENABLE_TELEMETRY=False \
    PLANWH_STATE_DIR=/opt/planwh/state \
    PLANWH_LANDING_DIR=/opt/planwh/landing
