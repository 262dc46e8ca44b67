"""The container image, checked without Docker: the Dockerfile is hadolint-clean and has the
shape the deployment relies on, the build context `.dockerignore` admits is enough to build the
wheel, the wheel holds the package data and the entry point, and the installed code runs on a
read-only root filesystem.

No image is built here (there is no Docker engine where these tests run): what is tested is the
Dockerfile's text, the wheel the build stage makes, and that code run as the image runs it.
"""

from __future__ import annotations

import fnmatch
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import time
import zipfile
from functools import cache
from pathlib import Path

import httpx
import pytest

import exporter
from exporter.cli import DEFAULT_LISTEN
from tests.conftest import free_port, require_tool

ROOT = Path(__file__).resolve().parent.parent.parent
DOCKERFILE = ROOT / "Dockerfile"
DOCKERIGNORE = ROOT / ".dockerignore"
ENTRYPOINT = "digitalocean-exporter"
PACKAGE_DATA = (
    "exporter/py.typed",
    "exporter/data/prices.yml",
    "exporter/simulator/README.md",
    "exporter/simulator/scenarios/demo.yml",
    "exporter/simulator/scenarios/flaky.yml",
    "exporter/simulator/scenarios/large.yml",
)
OCI_LABELS = ("title", "description", "licenses", "source", "url", "documentation", "vendor",
              "version", "revision", "created", "base.name")


def instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) of the Dockerfile, continuation lines joined, comments dropped."""
    joined: list[str] = []
    current = ""
    for line in DOCKERFILE.read_text().splitlines():
        if not current and (not line.strip() or line.lstrip().startswith("#")):
            continue
        current += line.rstrip().removesuffix("\\") + " " if line.rstrip().endswith("\\") else line
        if not line.rstrip().endswith("\\"):
            joined.append(current)
            current = ""
    result = []
    for text in joined:
        keyword, _, rest = text.strip().partition(" ")
        result.append((keyword.upper(), rest.strip()))
    return result


def stages() -> list[list[tuple[str, str]]]:
    found: list[list[tuple[str, str]]] = []
    for keyword, rest in instructions():
        if keyword == "FROM":
            found.append([])
        found[-1].append((keyword, rest))
    return found


def final_stage() -> list[tuple[str, str]]:
    return stages()[-1]


def test_hadolint_is_clean() -> None:
    hadolint = require_tool("hadolint")
    result = subprocess.run(
        [hadolint, "--no-color", "--failure-threshold", "style", "--disable-ignore-pragma",
         "--require-label", "org.opencontainers.image.source:url",
         "--require-label", "org.opencontainers.image.url:url",
         "--require-label", "org.opencontainers.image.documentation:url",
         "--require-label", "org.opencontainers.image.licenses:spdx",
         "--require-label", "org.opencontainers.image.title:text",
         str(DOCKERFILE)],
        capture_output=True, text=True, check=False, timeout=60, cwd=ROOT,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_hadolint_would_catch_a_bad_dockerfile(tmp_path: Path) -> None:
    """The lint above can fail: the same options reject the usual mistakes."""
    hadolint = require_tool("hadolint")
    bad = tmp_path / "Dockerfile"
    bad.write_text("FROM python:latest\nRUN pip install requests\nUSER root\nCMD python app.py\n")
    result = subprocess.run([hadolint, "--no-color", "--failure-threshold", "style", str(bad)],
                            capture_output=True, text=True, check=False, timeout=60)
    assert result.returncode != 0
    for rule in ("DL3007", "DL3013", "DL3042", "DL3002", "DL3025"):
        assert rule in result.stdout, rule


def test_two_stages_from_a_slim_python_pinned_by_tag() -> None:
    images = [rest.split()[0] for stage in stages() for keyword, rest in stage if keyword == "FROM"]
    assert len(images) == 2
    for image in images:
        assert re.fullmatch(r"python:3\.1[12]-slim(-[a-z]+)?(@sha256:[0-9a-f]{64})?", image), image
    # the runtime stage runs the Python version CI tests with
    assert images[-1].startswith(f"python:{sys.version_info.major}.{sys.version_info.minor}-")
    assert stages()[0][0][1].endswith(" AS build")


def test_the_final_stage_has_no_build_tools() -> None:
    text = " ".join(rest for _, rest in final_stage())
    for tool in ("apt-get", "apk ", "gcc", "build-essential", "pip install", "pip wheel"):
        assert tool not in text, tool
    runs = [rest for keyword, rest in final_stage() if keyword == "RUN"]
    assert runs == ["python -m pip uninstall --yes --quiet pip setuptools wheel"]
    copies = [rest for keyword, rest in final_stage() if keyword == "COPY"]
    assert copies == ["--from=build /opt/venv /opt/venv"]  # the virtualenv only, not the sources


def test_runs_as_a_numeric_non_root_user() -> None:
    users = [rest for keyword, rest in final_stage() if keyword == "USER"]
    assert len(users) == 1
    user, _, group = users[0].partition(":")
    assert user.isdigit(), users
    assert group.isdigit(), users
    assert int(user) != 0, users
    assert int(group) != 0, users
    # the same uid as the Kubernetes manifests' runAsUser
    assert user == "65532"


def test_environment_for_a_read_only_root_filesystem() -> None:
    env = " ".join(rest for keyword, rest in final_stage() if keyword == "ENV")
    for setting in ("PYTHONDONTWRITEBYTECODE=1", "PYTHONUNBUFFERED=1", "PYTHONNOUSERSITE=1",
                    "PATH=/opt/venv/bin:$PATH"):
        assert setting in env, setting


def test_exposes_9212_and_starts_the_exporter_in_exec_form() -> None:
    stage = final_stage()
    assert ("EXPOSE", "9212") in stage
    entrypoints = [rest for keyword, rest in stage if keyword == "ENTRYPOINT"]
    assert entrypoints == [f'["{ENTRYPOINT}"]']
    assert not [rest for keyword, rest in stage if keyword == "CMD"]
    assert DEFAULT_LISTEN == ":9212"


def test_healthcheck_uses_python_not_curl() -> None:
    [check] = [rest for keyword, rest in final_stage() if keyword == "HEALTHCHECK"]
    assert "curl" not in check
    assert "wget" not in check
    assert 'CMD ["python", "-c", ' in check
    env = " ".join(rest for keyword, rest in final_stage() if keyword == "ENV")
    assert "HEALTHCHECK_URL=http://127.0.0.1:9212/healthz" in env


def test_oci_labels_and_version() -> None:
    labels = " ".join(rest for keyword, rest in final_stage() if keyword == "LABEL")
    for name in OCI_LABELS:
        assert f"org.opencontainers.image.{name}=" in labels, name
    assert 'org.opencontainers.image.licenses="Apache-2.0"' in labels
    args = [rest for keyword, rest in final_stage() if keyword == "ARG"]
    assert f"VERSION={exporter.__version__}" in args, "the Dockerfile's VERSION is not the package's"


def ignore_regex(pattern: str) -> str:
    """A .dockerignore pattern as a regular expression (`**` any directories, `*` and `?`
    within one path element)."""
    parts = re.split(r"(\*\*/|\*\*|\*|\?)", pattern)
    wildcards = {"**/": "(?:.*/)?", "**": ".*", "*": "[^/]*", "?": "[^/]"}
    return "".join(wildcards.get(part, re.escape(part)) for part in parts)


def context_files() -> list[Path]:
    """The files `docker build .` sends, by .dockerignore's rules (last matching line wins)."""
    rules = []
    for raw in DOCKERIGNORE.read_text().splitlines():
        line = raw.strip()
        if line and not line.startswith("#"):
            rules.append((line.startswith("!"), line.removeprefix("!").rstrip("/")))
    found = []
    for path in sorted(ROOT.rglob("*")):
        if not path.is_file() or ".git" in path.relative_to(ROOT).parts[:1]:
            continue
        relative = path.relative_to(ROOT).as_posix()
        included = True
        for negated, pattern in rules:
            parents = [relative] + ["/".join(relative.split("/")[:i])
                                    for i in range(1, relative.count("/") + 1)]
            if any(re.fullmatch(ignore_regex(pattern), candidate) for candidate in parents):
                included = negated
        if included:
            found.append(path)
    return found


def test_the_build_context_holds_the_package_and_nothing_else() -> None:
    files = {p.relative_to(ROOT).as_posix() for p in context_files()}
    assert {"pyproject.toml", "README.md", "LICENSE", "exporter/cli.py", *PACKAGE_DATA} <= files
    outside = {f for f in files if not f.startswith("exporter/")}
    assert outside == {"pyproject.toml", "README.md", "LICENSE"}
    assert not [f for f in files if "__pycache__" in f or f.endswith(".pyc")]
    # every COPY of the build stage copies something the context has
    for keyword, rest in stages()[0]:
        if keyword == "COPY":
            *sources, _ = shlex.split(rest)
            for source in sources:
                assert any(f == source or f.startswith(source.rstrip("/") + "/") for f in files), source


@cache
def built_wheel(directory: Path) -> Path:
    """The wheel `pip wheel . --no-deps` builds from a copy of the build context."""
    context = directory / "context"
    for path in context_files():
        target = context / path.relative_to(ROOT)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(path, target)
    out = directory / "wheels"
    result = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "--wheel-dir", str(out), "."],
        cwd=context, capture_output=True, text=True, check=False, timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    # what `pip install .` (and so `make demo`) prints while building: no deprecation warning
    assert "warning" not in (result.stdout + result.stderr).lower(), result.stdout + result.stderr
    [wheel] = out.glob("*.whl")
    return wheel


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return built_wheel(tmp_path_factory.mktemp("wheel"))


def test_the_wheel_builds_from_the_context_and_holds_the_package_data(wheel: Path) -> None:
    assert wheel.name == f"digitalocean_exporter-{exporter.__version__}-py3-none-any.whl"
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        for data in PACKAGE_DATA:
            assert data in names, data
        sources = {p.relative_to(ROOT).as_posix() for p in (ROOT / "exporter").rglob("*.py")}
        assert sources <= names, sorted(sources - names)
        assert not [n for n in names if n.startswith(("tests/", "bench/", "deploy/", "grafana/"))]
        [entry_points] = [n for n in names if n.endswith(".dist-info/entry_points.txt")]
        text = archive.read(entry_points).decode()
    assert f"{ENTRYPOINT} = exporter.cli:main" in text


@pytest.fixture(scope="module")
def installed(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The wheel unpacked as pip installs it (site-packages layout), outside the work tree."""
    target = tmp_path_factory.mktemp("site")
    with zipfile.ZipFile(wheel) as archive:
        archive.extractall(target)
    return target


def run_installed(installed: Path, code: str) -> subprocess.CompletedProcess[str]:
    # -I: isolated, so neither the work tree nor the editable install is on the path;
    # the dependencies come from this interpreter's site-packages
    site_packages = [p for p in sys.path if p.endswith("site-packages")]
    prelude = f"import sys; sys.path[:0] = {[str(installed), *site_packages]!r}; "
    return subprocess.run([sys.executable, "-I", "-B", "-c", prelude + code], capture_output=True,
                          text=True, check=False, timeout=60, cwd=installed)


def test_the_entry_point_module_exists_in_the_wheel(installed: Path) -> None:
    result = run_installed(installed, (
        "import exporter.cli as cli; print(cli.__file__); "
        "raise SystemExit(cli.main(['--version']))"
    ))
    assert result.returncode == 0, result.stderr
    where, version = result.stdout.splitlines()
    assert Path(where) == installed / "exporter" / "cli.py"
    assert version.startswith(f"digitalocean-exporter {exporter.__version__} (python ")


def test_the_package_data_loads_from_the_wheel(installed: Path) -> None:
    result = run_installed(installed, (
        "from exporter.pricing import load_price_table; load_price_table(); "
        "from exporter.simulator.scenario import bundled_scenario; "
        "print(sorted(a.name for a in bundled_scenario('demo').accounts))"
    ))
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "['production', 'staging']"


def test_runs_on_a_read_only_root_filesystem(installed: Path) -> None:
    """`--demo` from the installed wheel, in a private mount namespace whose / is remounted
    read-only (as the container's root filesystem is): it serves, becomes ready and stops
    cleanly. The shell refuses to start it if / is still writable."""
    unshare = require_tool("unshare")
    if os.geteuid() != 0:
        pytest.skip("remounting / read-only in a mount namespace needs root (CI runs as root)")
    port = free_port()
    paths = [str(installed), *(p for p in sys.path if p.endswith("site-packages"))]
    program = f"import sys; sys.path[:0] = {paths!r}; from exporter.cli import main; raise SystemExit(main())"
    script = (
        "mount --make-rprivate / && mount -o remount,bind,ro / && "
        "if touch /.write-test 2>/dev/null; then echo 'root is writable'; exit 97; fi && "
        f"exec {shlex.quote(sys.executable)} -I -c {shlex.quote(program)} "
        f"--demo --web.listen-address 127.0.0.1:{port} --log.format json"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DIGITALOCEAN_", "DO_"))}
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    log = installed.parent / f"readonly-{port}.log"
    with log.open("wb") as sink:
        process = subprocess.Popen([unshare, "--mount", "sh", "-c", script],
                                   stdout=sink, stderr=subprocess.STDOUT, env=env, cwd="/")
    try:
        deadline = time.monotonic() + 30
        ready = False
        while time.monotonic() < deadline and process.poll() is None:
            try:
                ready = httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=1).status_code == 200
            except httpx.HTTPError:
                ready = False
            if ready:
                break
            time.sleep(0.1)
        assert ready, log.read_text()
        # the exporter's own series (collector_success among them) are refreshed every second
        success = 'digitalocean_collector_success{account="production",collector="droplets"} 1.0'
        deadline = time.monotonic() + 10
        while success not in (body := httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=5).text):
            assert time.monotonic() < deadline, body[-2000:]
            time.sleep(0.2)
        assert "digitalocean_droplet_info{" in body
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
        code = process.wait(30)
    output = log.read_text()
    assert code == 0, output
    assert "Read-only file system" not in output, output
    assert "Traceback" not in output, output
    assert not fnmatch.filter(os.listdir("/"), ".write-test")
