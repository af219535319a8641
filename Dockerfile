# The production image: Airflow 3.3 with this project installed from the same pinned lock
# that `make demo` and CI use. Built by docker-compose.yml for every Airflow service.
FROM apache/airflow:3.3.2-python3.11

USER root
RUN apt-get update \
    && apt-get install -y --no-install-recommends make \
    && rm -rf /var/lib/apt/lists/*
USER airflow

WORKDIR /opt/planwh
COPY --chown=airflow:root requirements.lock pyproject.toml ./
RUN pip install --no-cache-dir uv==0.13.8 \
    && uv pip install --no-cache --python "$(command -v python)" -r requirements.lock
COPY --chown=airflow:root include ./include
COPY --chown=airflow:root dags ./dags
COPY --chown=airflow:root dbt_project ./dbt_project
COPY --chown=airflow:root expectations ./expectations
RUN uv pip install --no-cache --python "$(command -v python)" --no-deps -e .

ENV AIRFLOW__CORE__DAGS_FOLDER=/opt/planwh/dags \
    AIRFLOW__CORE__LOAD_EXAMPLES=False \
    AIRFLOW__COSMOS__ENABLE_TELEMETRY=False \
    PLANWH_STATE_DIR=/opt/planwh/state \
    PLANWH_LANDING_DIR=/opt/planwh/landing
