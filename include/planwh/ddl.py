"""DDL text shared by the modules that create their own tables on first use.

Light on purpose (no database driver): the DAG files import modules that use it at parse time.
"""

from __future__ import annotations

import re


def create_schemas_sql(*names: str) -> str:
    """SQL creating each schema in ``names`` that is missing, safe to run on every start.

    ``create schema if not exists`` needs CREATE on the database even when the schema exists, so
    a role running it must be allowed to create *any* schema. This looks in the catalog first:
    the duty roles, which own the schemas they write (``planwh roles apply`` creates them), run
    their idempotent DDL without that right; two processes creating a missing schema at once
    both succeed.
    """
    blocks = []
    for name in names:
        if not re.fullmatch(r"[a-z_][a-z0-9_]*", name):
            raise ValueError(f"not a plain schema name: {name!r}")
        blocks.append(
            "do $planwh$ begin\n"
            f"    if not exists (select from pg_namespace where nspname = '{name}') then\n"
            f"        create schema {name};\n"
            "    end if;\n"
            "exception when duplicate_schema or unique_violation then null;\n"
            "end $planwh$;\n"
        )
    return "".join(blocks)
