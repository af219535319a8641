"""``planwh roles apply|show``: the database roles of the warehouse (see planwh.roles)."""

from __future__ import annotations

import argparse
import os
import sys

from planwh.console import format_table
from planwh.db import national_url, redact, warehouse_url
from planwh.roles import ROLE_PURPOSE, ROLES, RolesError, RolesOutcome, access_matrix, apply_roles
from planwh.settings import load_settings

EPILOG = """Examples:
  planwh roles show
  planwh roles apply                         # passwords from PLANWH_LOADER_PASSWORD, ..._BI_PASSWORD if set
  planwh roles apply --password-env planwh_bi=SUPERSET_MARTS_PASSWORD
  planwh roles apply --no-national           # the national database is someone else's

Passwords are read from environment variables, never from the command line, and are not printed.
"""


def default_password_variable(role: str) -> str:
    """``planwh_bi`` -> ``PLANWH_BI_PASSWORD``."""
    return f"{role.upper()}_PASSWORD"


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "roles",
        help="create the database roles (loader, transformer, sync, BI reader) and their privileges",
        description="Create or update the four duty roles and what each may read and write, on the\n"
        "warehouse and (unless --no-national) the national shared database. Safe to repeat.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("action", choices=["apply", "show"])
    parser.add_argument(
        "--password-env",
        action="append",
        default=[],
        metavar="ROLE=VARIABLE",
        help="take ROLE's password from environment variable VARIABLE (default: ROLE_PASSWORD in capitals, "
        "e.g. PLANWH_BI_PASSWORD, when set)",
    )
    parser.add_argument("--no-national", action="store_true", help="apply on the warehouse only")
    parser.set_defaults(func=run)


def passwords_from_environment(pairs: list[str], environ: dict[str, str]) -> dict[str, str]:
    """The passwords named by ``ROLE=VARIABLE`` pairs, else by the default variables that are set."""
    variables = {role: default_password_variable(role) for role in ROLES}
    explicit = set()
    for pair in pairs:
        role, sep, variable = pair.partition("=")
        if not sep or not variable:
            raise RolesError(f"--password-env expects ROLE=VARIABLE, got {pair!r}")
        if role not in ROLES:
            raise RolesError(f"--password-env: unknown role {role!r}; the roles are {', '.join(ROLES)}")
        variables[role] = variable
        explicit.add(role)
    passwords = {}
    for role, variable in variables.items():
        value = environ.get(variable, "")
        if value:
            passwords[role] = value
        elif role in explicit:
            raise RolesError(f"--password-env: environment variable {variable} (for {role}) is not set")
    return passwords


def run(args: argparse.Namespace) -> int:
    if args.action == "show":
        print(format_table(["schema", *ROLES], access_matrix()))
        print()
        print(format_table(["role", "for"], [[role, ROLE_PURPOSE[role]] for role in ROLES]))
        return 0
    settings = load_settings()
    try:
        passwords = passwords_from_environment(args.password_env, dict(os.environ))
        url = warehouse_url(settings)
        national = None if args.no_national else national_url(settings)
        outcome = apply_roles(url, passwords, national_url=national)
    except RolesError as exc:
        print(f"planwh roles: {exc}", file=sys.stderr)
        return 2
    print(f"roles applied on {redact(url)}" + (f" and {redact(national)}" if national else ""))
    print(describe_outcome(outcome))
    return 0


def describe_outcome(outcome: RolesOutcome) -> str:
    """What apply_roles did, in a few lines that name roles and never a password."""
    lines = [f"created: {', '.join(outcome.created) or 'none (all existed)'}"]
    if outcome.passwords_set:
        lines.append(f"new password from the environment (not shown) for: {', '.join(outcome.passwords_set)}")
    else:
        lines.append("passwords: unchanged (no PLANWH_<ROLE>_PASSWORD set)")
    if outcome.schemas_created:
        lines.append(f"schemas created: {', '.join(outcome.schemas_created)}")
    if outcome.ownership_moved:
        lines.append(f"objects handed to their duty role: {outcome.ownership_moved}")
    return "\n".join(lines)
