"""Zip the dashboard in deploy/superset/dashboard/ into the bundle `superset import-dashboards -p` reads.

    python build_bundle.py /tmp/planwh_dashboard.zip --password-env PLANWH_BI_PASSWORD
    superset import-dashboards -p /tmp/planwh_dashboard.zip -u admin

Superset's import format is a ZIP whose single top folder holds metadata.yaml, databases/,
datasets/<database>/, charts/ and dashboards/. The database file in the repository carries
Superset's password mask (XXXXXXXXXX); with --password-env the password of the marts login is
written into the ZIP's copy only (a file readable by its owner alone, to delete after the
import), which is how Superset's importer takes the password of a masked URI. Standard library
only: it runs in the Superset image, which does not have the planwh package.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import zipfile
from pathlib import Path

SOURCE = Path(__file__).resolve().parent / "dashboard"
ROOT = "planwh_dashboard"
PASSWORD_MASK = "XXXXXXXXXX"
# fixed timestamps: the same YAML gives the same ZIP
ZIP_TIME = (2023, 1, 1, 0, 0, 0)


class BundleError(ValueError):
    pass


def bundle_files(source: Path = SOURCE) -> dict[str, str]:
    """The bundle's files: path inside the top folder -> YAML text."""
    files = {
        path.relative_to(source).as_posix(): path.read_text(encoding="utf-8")
        for path in sorted(source.rglob("*.yaml"))
    }
    if "metadata.yaml" not in files:
        raise BundleError(f"{source}: metadata.yaml is missing")
    return files


def with_password(text: str, password: str, name: str) -> str:
    if f":{PASSWORD_MASK}@" not in text:
        raise BundleError(f"{name}: sqlalchemy_uri has no {PASSWORD_MASK} password mask to fill")
    if any(line.startswith("password:") for line in text.splitlines()):
        raise BundleError(f"{name}: already has a password")
    # a JSON string is a valid YAML double-quoted scalar, whatever the password contains
    return text.rstrip("\n") + f"\npassword: {json.dumps(password)}\n"


def build_bundle(out: Path, password: str | None = None, source: Path = SOURCE) -> Path:
    files = bundle_files(source)
    if password:
        databases = [name for name in files if name.startswith("databases/")]
        if not databases:
            raise BundleError(f"{source}: no database file to give the password to")
        for name in databases:
            files[name] = with_password(files[name], password, name)
    out.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as handle, zipfile.ZipFile(handle, "w", zipfile.ZIP_DEFLATED) as bundle:
        for name, text in files.items():
            info = zipfile.ZipInfo(f"{ROOT}/{name}", date_time=ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            bundle.writestr(info, text.encode("utf-8"))
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out", type=Path, help="the ZIP to write")
    parser.add_argument("--password-env", metavar="VARIABLE",
                        help="environment variable holding the marts login's password")
    parser.add_argument("--source", type=Path, default=SOURCE, help=f"bundle folder (default {SOURCE})")
    args = parser.parse_args(argv)
    password = None
    if args.password_env:
        password = os.environ.get(args.password_env, "")
        if not password:
            print(f"build_bundle: environment variable {args.password_env} is not set", file=sys.stderr)
            return 2
    try:
        path = build_bundle(args.out, password, args.source)
    except (BundleError, OSError) as exc:
        print(f"build_bundle: {exc}", file=sys.stderr)
        return 2
    print(f"dashboard bundle written to {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
