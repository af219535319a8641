"""docker-compose.yml and the Dockerfile checked against the code, since no Docker engine runs here.

What a deployer relies on: every service is there, Airflow runs Celery on Redis, no secret is
written in the file and every variable it needs is documented in .env.example, the images are
the ones built from this repository, every ``planwh`` and ``airflow`` command it runs exists (parsed
by the real argument parsers), workers scale, and Superset reads the marts as the BI role.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import yaml

REPO_ROOT = Path(__file__).resolve().parents[2]
COMPOSE_FILE = REPO_ROOT / "docker-compose.yml"
ENV_EXAMPLE = REPO_ROOT / ".env.example"
DOCKERFILE = REPO_ROOT / "Dockerfile"
SUPERSET_DIR = REPO_ROOT / "deploy" / "superset"
INIT_SCRIPT = REPO_ROOT / "deploy" / "postgres" / "init-databases.sh"

AIRFLOW_SERVICES = {
    "airflow-init", "airflow-apiserver", "airflow-scheduler", "airflow-dag-processor", "airflow-triggerer",
    "airflow-worker",
}
REQUIRED_SERVICES = AIRFLOW_SERVICES | {"postgres", "redis", "superset-init", "superset", "sender-page"}
# ${VAR}, ${VAR:-default}, ${VAR:?message}; $${VAR} is an escaped literal for the container's shell
VARIABLE = re.compile(r"(?<!\$)\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?])([^}]*))?\}")
SECRET_NAME = re.compile(r"PASSWORD|SECRET|TOKEN|FERNET|JWT|_KEY$")
SHELLS = {"bash", "sh", "/bin/bash", "/bin/sh"}


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load(COMPOSE_FILE.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def services(compose: dict) -> dict:
    return compose["services"]


def environment(service: dict) -> dict[str, str]:
    """A service's environment as written (``${VAR}`` references unresolved)."""
    env = service.get("environment") or {}
    if isinstance(env, list):
        env = dict(item.split("=", 1) for item in env)
    return {k: str(v) for k, v in env.items()}


def url(service: dict, variable: str):
    return urlsplit(interpolate(environment(service)[variable]))


def interpolate(text: str) -> str:
    """The value compose would use with a made-up value for every variable (defaults kept)."""
    def value(match: re.Match) -> str:
        if match.group(2) == ":-" and match.group(3):
            return match.group(3)
        return f"value-of-{match.group(1).lower()}"

    return VARIABLE.sub(value, text).replace("$$", "$")


def split_script(script: str) -> list[list[str]]:
    """The commands of a shell script: one per line, and per ``&&``, ``||``, ``;`` or ``|``."""
    commands = []
    for line in script.splitlines():
        lexer = shlex.shlex(line, posix=True, punctuation_chars=True)
        lexer.whitespace_split = True
        lexer.commenters = "#"
        words: list[str] = []
        for token in lexer:
            if token in {"&&", "||", ";", "|", "&"}:
                commands.append(words)
                words = []
            else:
                words.append(token)
        commands.append(words)
    return [c for c in commands if c]


def command_lines(service: dict) -> list[list[str]]:
    """Every command a service runs (command and healthcheck), as argument lists, variables filled in.

    A ``bash -c`` script is split into its commands, so each ``planwh`` or ``airflow`` call in it
    is checked on its own.
    """
    raw = []
    command = service.get("command")
    if command:
        raw.append(command if isinstance(command, list) else shlex.split(command))
    test = (service.get("healthcheck") or {}).get("test")
    if test:
        if test[0] == "CMD-SHELL":
            raw.append(["sh", "-c", " ".join(test[1:])])
        elif test[0] == "CMD":
            raw.append(list(test[1:]))
    lines = []
    for argv in raw:
        argv = [interpolate(a) for a in argv]
        if argv[0] in SHELLS and any(a.startswith("-") and "c" in a for a in argv[1:-1]):
            lines += split_script(argv[-1])
        else:
            lines.append(argv)
    return lines


def all_strings(node) -> list[str]:
    if isinstance(node, dict):
        return [s for value in node.values() for s in all_strings(value)]
    if isinstance(node, list):
        return [s for value in node for s in all_strings(value)]
    return [str(node)] if node is not None else []


# -------------------------------------------------------------------------------------------------


def test_every_service_is_there(services: dict) -> None:
    assert REQUIRED_SERVICES <= set(services), REQUIRED_SERVICES - set(services)


def test_airflow_runs_the_celery_executor_on_redis(services: dict) -> None:
    for name in AIRFLOW_SERVICES:
        env = environment(services[name])
        assert env["AIRFLOW__CORE__EXECUTOR"] == "CeleryExecutor", name
        broker = urlsplit(env["AIRFLOW__CELERY__BROKER_URL"])
        assert broker.scheme == "redis" and broker.hostname == "redis", name
        assert env["AIRFLOW__CELERY__RESULT_BACKEND"].startswith("db+postgresql")
    assert services["redis"]["image"].startswith("redis:")
    assert {"redis", "postgres"} <= set(services["airflow-worker"]["depends_on"])
    worker = command_lines(services["airflow-worker"])[0]
    assert worker == ["airflow", "celery", "worker"]


def test_airflow_uses_viet_nam_time_and_a_celery_visibility_timeout_longer_than_any_task(services: dict) -> None:
    from planwh.orchestration.airflow_env import CELERY_VISIBILITY_TIMEOUT, TIMEZONE

    for name in AIRFLOW_SERVICES:
        env = environment(services[name])
        # as the local set-up: `airflow backfill create --from-date 2024-12-02` means a Viet Nam day
        assert env["AIRFLOW__CORE__DEFAULT_TIMEZONE"] == TIMEZONE == "Asia/Ho_Chi_Minh", name
        # the value the Celery test runs with; tasks time out at 30 min, runs at 2 h
        timeout = int(env["AIRFLOW__CELERY_BROKER_TRANSPORT_OPTIONS__VISIBILITY_TIMEOUT"])
        assert timeout == CELERY_VISIBILITY_TIMEOUT > 2 * 60 * 60, name


def test_airflow_metadata_and_warehouse_are_separate_databases_and_roles(services: dict) -> None:
    metadata = url(services["airflow-scheduler"], "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN")
    warehouse = url(services["airflow-scheduler"], "PLANWH_WAREHOUSE_URL")
    assert metadata.hostname == warehouse.hostname == "postgres"
    assert metadata.path != warehouse.path and metadata.username != warehouse.username
    # and the first start of PostgreSQL creates exactly those databases, owned by those roles
    script = INIT_SCRIPT.read_text(encoding="utf-8")
    for target in (metadata, warehouse):
        database, owner = target.path.lstrip("/"), target.username
        assert re.search(rf"create database {database} owner {owner};", script), (database, owner)


def test_no_secret_is_written_in_the_file(compose: dict, services: dict) -> None:
    for name, service in services.items():
        for key, value in environment(service).items():
            if SECRET_NAME.search(key) and not key.endswith("_FILE"):
                assert VARIABLE.fullmatch(value), f"{name}: {key} must come from .env as ${{...}}, not {value!r}"
    for text in all_strings(compose):
        for match in re.finditer(r"[a-z+]+://([^/@\s:]+):([^@\s]+)@", text):
            assert VARIABLE.fullmatch(match.group(2)), f"password in URL {text!r}"
        for match in re.finditer(r"--password[= ](\S+)", text):
            assert match.group(1).strip("\"'").startswith("$"), f"password on a command line: {text!r}"
    raw = COMPOSE_FILE.read_text(encoding="utf-8")
    literal = re.findall(r"(?im)^\s*[\w-]*(?:password|secret|token)[\w-]*:\s*(?!\$\{)(\S.*)$", raw)
    assert [v for v in literal if not v.startswith("/")] == []


def test_every_variable_is_documented_in_env_example(compose: dict) -> None:
    used = {m.group(1) for text in all_strings(compose) for m in VARIABLE.finditer(text)}
    documented = set(re.findall(r"(?m)^#?\s*([A-Z][A-Z0-9_]*)=", ENV_EXAMPLE.read_text(encoding="utf-8")))
    assert used, "no variables found"
    assert used <= documented, f"not in .env.example: {sorted(used - documented)}"
    # the secrets compose cannot start without are required (:?), not defaulted
    required = {m.group(1) for text in all_strings(compose) for m in VARIABLE.finditer(text) if m.group(2) == ":?"}
    assert {"POSTGRES_PASSWORD", "PLANWH_APP_PASSWORD", "PLANWH_BI_PASSWORD", "AIRFLOW_FERNET_KEY",
            "SUPERSET_SECRET_KEY", "PLANWH_PSEUDONYM_KEY"} <= required


def test_airflow_services_use_the_image_built_from_the_dockerfile(services: dict) -> None:
    images = set()
    for name in AIRFLOW_SERVICES:
        service = services[name]
        build = service["build"]
        context = build if isinstance(build, str) else build.get("context", ".")
        dockerfile = "Dockerfile" if isinstance(build, str) else build.get("dockerfile", "Dockerfile")
        assert (REPO_ROOT / context / dockerfile).resolve() == DOCKERFILE, name
        images.add(service["image"])
    assert len(images) == 1
    dockerfile = DOCKERFILE.read_text(encoding="utf-8")
    lock = (REPO_ROOT / "requirements.lock").read_text(encoding="utf-8")
    airflow_version = re.search(r"(?m)^apache-airflow==(\S+)$", lock).group(1)
    base = re.search(r"(?m)^FROM apache/airflow:(\S+)-python(\d+\.\d+)$", dockerfile)
    assert base, "the image is built on the official Airflow image"
    assert base.group(1) == airflow_version, "the base image's Airflow is the locked one"
    assert base.group(2) == f"{sys.version_info.major}.{sys.version_info.minor}", "same Python as the venv"
    assert re.search(r"COPY .*requirements\.lock", dockerfile)
    assert re.search(r"pip install .*-r requirements\.lock", dockerfile)
    for folder in ("include", "dags", "dbt_project", "expectations"):
        assert re.search(rf"(?m)^COPY .*\b{folder} \./{folder}$", dockerfile), folder
        assert (REPO_ROOT / folder).is_dir()
    assert re.search(r"pip install .*-e \.", dockerfile)
    # the folders mounted as volumes exist in the image, so new volumes are writable by airflow
    for service in (services["airflow-init"], services["airflow-apiserver"]):
        for volume in service["volumes"]:
            target = volume.split(":")[1]
            if target.startswith(("/opt/planwh", "/opt/airflow/auth")):
                assert target in dockerfile, target


def planwh_errors(lines: list[list[str]]) -> list[str]:
    from planwh.cli import build_parser

    parser = build_parser()
    errors = []
    for argv in lines:
        try:
            parser.parse_args(argv[1:])
        except SystemExit:
            errors.append(" ".join(argv))
    return errors


AIRFLOW_CHECK = """
import importlib, json, sys
from airflow.cli.cli_parser import get_parser
from airflow.executors.executor_loader import ExecutorLoader
errors = []
try:
    # what the scheduler and every worker do first
    ExecutorLoader.import_default_executor_cls()
except Exception as exc:
    errors.append(f"the configured executor does not import: {exc!r}")
parser = get_parser()
for argv in json.load(sys.stdin):
    if argv[0] == "celery":
        module, _, attribute = argv[argv.index("--app") + 1].rpartition(".")
        try:
            if not hasattr(importlib.import_module(module), attribute):
                errors.append(" ".join(argv))
        except ImportError as exc:
            errors.append(f"{' '.join(argv)}: {exc!r}")
        continue
    try:
        parser.parse_args(argv[1:])
    except SystemExit:
        errors.append(" ".join(argv))
print(json.dumps(errors))
"""


def test_every_planwh_and_airflow_command_exists(services: dict, tmp_path: Path) -> None:
    lines = [argv for service in services.values() for argv in command_lines(service)]
    planwh = [argv for argv in lines if argv[0] == "planwh"]
    airflow = [argv for argv in lines if argv[0] in {"airflow", "celery"}]
    assert ["planwh", "roles", "apply"] in planwh and ["planwh", "seeds", "load"] in planwh
    assert ["airflow", "db", "migrate"] in airflow
    assert planwh_errors(planwh) == []
    # Airflow adds the celery commands only with the CeleryExecutor configured, as in compose
    env = {**os.environ, "AIRFLOW_HOME": str(tmp_path), "AIRFLOW__CORE__EXECUTOR": "CeleryExecutor",
           "AIRFLOW__CORE__LOAD_EXAMPLES": "False"}
    result = subprocess.run(
        [sys.executable, "-c", AIRFLOW_CHECK], input=json.dumps(airflow), capture_output=True, text=True,
        env=env, timeout=120, check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert json.loads(result.stdout.strip().splitlines()[-1]) == [], result.stderr[-3000:]


def test_the_init_service_migrates_seeds_and_applies_roles(services: dict) -> None:
    steps = command_lines(services["airflow-init"])
    first = [" ".join(argv[:3]) for argv in steps]
    assert first.index("airflow db migrate") < first.index("planwh seeds load") < first.index("planwh roles apply")
    for name in AIRFLOW_SERVICES - {"airflow-init"}:
        assert services[name]["depends_on"]["airflow-init"]["condition"] == "service_completed_successfully"


def test_workers_scale(services: dict) -> None:
    worker = services["airflow-worker"]
    assert "container_name" not in worker
    assert not worker.get("ports"), "a fixed host port would collide between replicas"
    assert "hostname" not in worker


def test_postgres_keeps_its_data_where_the_image_expects_it(services: dict) -> None:
    postgres = services["postgres"]
    major = int(re.match(r"postgres:(\d+)", postgres["image"]).group(1))
    targets = [v.split(":")[1] for v in postgres["volumes"]]
    # from 18 the official image stores data under /var/lib/postgresql/<major>/ and refuses a
    # volume at the old /var/lib/postgresql/data
    assert ("/var/lib/postgresql" if major >= 18 else "/var/lib/postgresql/data") in targets
    assert "/docker-entrypoint-initdb.d/10-init-databases.sh" in targets
    script_variables = set(re.findall(r'"\$([A-Z_]+)"', INIT_SCRIPT.read_text(encoding="utf-8")))
    assert script_variables <= set(environment(postgres)), script_variables - set(environment(postgres))


def test_superset_reads_the_marts_as_the_bi_role(services: dict) -> None:
    from planwh.commands.roles import default_password_variable
    from planwh.roles import BI

    for name in ("superset", "superset-init"):
        assert "postgres" in services[name]["depends_on"], name
    # the roles (and the BI password) exist before the dashboard's connection is imported
    assert services["superset-init"]["depends_on"]["airflow-init"]["condition"] == "service_completed_successfully"
    spec = importlib.util.spec_from_file_location("compose_build_bundle", SUPERSET_DIR / "build_bundle.py")
    builder = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(builder)
    uri = urlsplit(builder.bundle_documents()["databases/planwh_marts.yaml"]["sqlalchemy_uri"])
    warehouse = url(services["airflow-init"], "PLANWH_WAREHOUSE_URL")
    assert uri.username == BI
    assert (uri.hostname, uri.port or 5432, uri.path) == (warehouse.hostname, warehouse.port or 5432, warehouse.path)
    # the same variable gives planwh_bi its password (planwh roles apply) and the Superset connection
    variable = default_password_variable(BI)
    assert variable in environment(services["airflow-init"])
    assert variable in environment(services["superset-init"])
    # superset-init runs deploy/superset/init.sh, the script `make bi-check` runs against a real
    # Superset: the image has it (and what it calls) where compose calls it
    command = command_lines(services["superset-init"])
    assert command == [["bash", "/app/planwh/init.sh"]], command
    superset_dockerfile = (SUPERSET_DIR / "Dockerfile").read_text(encoding="utf-8")
    copied = re.search(r"(?m)^COPY .*? (init\.sh .*) /app/planwh/$", superset_dockerfile)
    assert copied, "the Dockerfile copies init.sh into /app/planwh/"
    assert {"init.sh", "build_bundle.py", "planwh_dashboard.py"} <= set(copied.group(1).split())
    init_script = (SUPERSET_DIR / "init.sh").read_text(encoding="utf-8").replace("\\\n", " ")
    script = " ".join(" ".join(argv) for argv in split_script(init_script))
    bundle = re.search(r"python \S+/build_bundle\.py (\S+\.zip) --password-env (\w+)", script)
    assert bundle and bundle.group(2) == variable
    assert f"superset import-dashboards -p {bundle.group(1)} -u admin" in script
    assert "SUPERSET_ADMIN_PASSWORD" in environment(services["superset-init"])
    assert "SUPERSET_METADATA_URL" not in environment(services["superset-init"]), "compose uses its superset database"
    assert services["superset-init"]["build"] == "./deploy/superset"
    assert services["superset"]["image"] == services["superset-init"]["image"]


def test_the_sender_page_runs_the_code_as_its_own_login_on_a_local_port(services: dict) -> None:
    from planwh.cli import build_parser
    from planwh.roles import WEB
    from planwh.settings import load_settings
    page = services["sender-page"]
    # the pipeline's image, so the page runs the same code and lock
    assert page["image"] == services["airflow-scheduler"]["image"] and page["build"] == "."
    command = command_lines(page)[0]
    assert command[:2] == ["planwh", "serve"]
    args = build_parser().parse_args(command[1:])
    env = environment(page)
    settings = load_settings({k: interpolate(v) for k, v in env.items() if k.startswith("PLANWH_WEB")}
                             | {"PLANWH_DOTENV": "/nonexistent"})
    # it listens on every interface of its container, on the port compose publishes on 127.0.0.1 only
    port = settings.web_port
    assert settings.web_host == "0.0.0.0" and args.bind is None
    assert page["ports"] == [f"127.0.0.1:${{PLANWH_WEB_HOST_PORT:-{port}}}:{port}"]
    assert args.forwarded_allow_ips == "127.0.0.1"
    # as the role that owns the page's schema, whose password the init service sets
    assert url(page, "PLANWH_WAREHOUSE_URL").username == WEB
    assert "PLANWH_WEB_PASSWORD" in environment(services["airflow-init"])
    assert url(page, "PLANWH_WAREHOUSE_URL").path == url(services["airflow-init"], "PLANWH_WAREHOUSE_URL").path
    assert page["depends_on"]["airflow-init"]["condition"] == "service_completed_successfully"
    # its health check asks for a page the application serves without a sign-in
    health = command_lines(page)[1]
    assert health[:3] == ["curl", "--fail", f"http://localhost:{port}/dang-nhap"]
    source = (REPO_ROOT / "include" / "planwh" / "web" / "app.py").read_text(encoding="utf-8")
    assert '@app.get("/dang-nhap"' in source
    # the landing folder and the state are the pipeline's: uploads are received where the DAGs look
    assert set(page["volumes"]) >= {"${PLANWH_LANDING_HOST_DIR:-./landing}:/opt/planwh/landing",
                                    "planwh-state:/opt/planwh/state"}
    assert env["PLANWH_LANDING_DIR"] == environment(services["airflow-scheduler"])["PLANWH_LANDING_DIR"]
