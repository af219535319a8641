"""planwh: the warehouse for the plans under Decision 1079/QĐ-TTg (2023-2028).

All logic lives here (readers, loaders, validation, sync, command line); the Airflow DAGs in
``dags/`` are thin wrappers around it.
"""

__version__ = "0.1.0"
