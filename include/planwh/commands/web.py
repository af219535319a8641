"""``planwh serve`` (the sender page) and ``planwh senders`` (its accounts)."""

from __future__ import annotations

import argparse
import sys

SERVE_EPILOG = """Examples:
  planwh serve                          # http://127.0.0.1:8800 (PLANWH_WEB_BIND)
  planwh serve --bind 0.0.0.0:8800      # behind a reverse proxy that terminates TLS

The page reads the warehouse of PLANWH_WAREHOUSE_URL (the embedded one when unset) and writes the
uploads it receives into <landing>/submissions/web/, registered in the reception ledger for the
next daily run. Accounts: planwh senders invite. Stop it with Ctrl-C.
"""

SENDERS_EPILOG = """Examples:
  planwh senders invite --agency 49-STTTT          # a one-time sign-in link, printed once
  planwh senders invite --agency 49-STTTT --password   # an initial password instead, printed once
  planwh senders invite --province 49              # the province's focal point (sees its agencies)
  planwh senders invite --all --province 49        # every agency of the register in province 49
  planwh senders list

Accounts are made from the agency register (marts.dim_agency: run the pipeline first). A link or
password is printed once and stored only as a hash; inviting again replaces it.
"""


def register(subparsers: argparse._SubParsersAction) -> None:
    serve = subparsers.add_parser(
        "serve", help="the sender page: forms, uploads checked at once, what each agency owes",
        description="Run the sender page (FastAPI, server-rendered Vietnamese pages) with uvicorn.",
        epilog=SERVE_EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    serve.add_argument("--bind", metavar="HOST:PORT", help="default: PLANWH_WEB_BIND (127.0.0.1:8800)")
    serve.add_argument("--forwarded-allow-ips", default="127.0.0.1", metavar="IPS",
                       help="proxies whose X-Forwarded-For/Proto are trusted (default 127.0.0.1)")
    serve.set_defaults(func=run_serve)

    senders = subparsers.add_parser(
        "senders", help="accounts of the sender page: invite agencies and focal points, list them",
        description="Create sender accounts from the agency register and give each a one-time sign-in link\n"
        "(or an initial password), printed once.",
        epilog=SENDERS_EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    senders.add_argument("action", choices=["invite", "list"])
    senders.add_argument("--agency", action="append", default=[], metavar="CODE", help="an agency of the register")
    senders.add_argument("--province", metavar="CODE", help="the province's focal point, or with --all its agencies")
    senders.add_argument("--all", action="store_true", help="every agency of the register (of --province)")
    senders.add_argument("--password", action="store_true", help="print an initial password instead of a link")
    senders.set_defaults(func=run_senders)


def run_serve(args: argparse.Namespace) -> int:
    import uvicorn

    from planwh.db import check_warehouse
    from planwh.settings import load_settings
    from planwh.web.app import create_app

    settings = load_settings()
    if args.bind:
        settings = settings.with_overrides(web_bind=args.bind)
    check_warehouse(settings)
    app = create_app(settings)
    print(f"planwh serve: {settings.web_public_url} (Ctrl-C stops it)", flush=True)
    uvicorn.run(app, host=settings.web_host, port=settings.web_port, proxy_headers=True,
                forwarded_allow_ips=args.forwarded_allow_ips, server_header=False, log_level="warning",
                access_log=False)
    return 0


def run_senders(args: argparse.Namespace) -> int:
    from planwh.console import format_table
    from planwh.db import connect, warehouse_url
    from planwh.settings import load_settings
    from planwh.web.accounts import invite
    from planwh.web.obligations import province_name, register_agencies
    from planwh.web.schema import ensure_web_schema

    settings = load_settings()
    with connect(warehouse_url(settings), autocommit=True) as conn:
        ensure_web_schema(conn)
        if args.action == "list":
            rows = conn.execute(
                "select username, scope, coalesce(agency_code, province_code), display_name, "
                "password_hash is not null, (select max(occurred_at) from web.audit_events as e "
                "where e.account_id = a.account_id and e.event = 'sign_in') from web.accounts as a order by username"
            ).fetchall()
            print(format_table(("user name", "scope", "code", "name", "password set", "last sign-in"),
                               [list(r) for r in rows]))
            return 0
        targets: list[tuple[str, tuple[str, str]]] = []
        if args.all:
            targets += [("agency", (a.agency_code, a.agency_name)) for a in register_agencies(conn, args.province)]
        elif args.province:
            targets.append(("province", (args.province, province_name(conn, args.province) or args.province)))
        if args.agency:
            known = {a.agency_code: a for a in register_agencies(conn)}
            missing = [code for code in args.agency if code not in known]
            if missing:
                print(f"planwh senders: not in the agency register: {', '.join(missing)}", file=sys.stderr)
                return 2
            targets += [("agency", (code, known[code].agency_name)) for code in args.agency]
        if not targets:
            print("planwh senders invite: name --agency CODE, --province CODE or --all", file=sys.stderr)
            return 2
        rows = []
        for scope, target in targets:
            given = invite(conn, settings, agency=target if scope == "agency" else None,
                           province=target if scope == "province" else None, with_password=args.password)
            rows.append((given.account.username, given.account.display_name, given.password or given.link))
    print(format_table(("user name", "name", "password (shown once)" if args.password else "one-time sign-in link"),
                       rows))
    if not args.password:
        print(f"\neach link works once, for {settings.web_invite_hours} h; the sender sets a password there")
    return 0
