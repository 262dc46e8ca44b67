"""The Kubernetes deployment in deploy/kubernetes: every base and overlay renders with kustomize,
every object is valid for the oldest and the newest Kubernetes version kubernetes-validate
knows, the Prometheus Operator objects match the operator's schema, every pod meets Pod Security
"restricted", the generated objects match their sources, and the pieces fit together (selectors,
ports, job names, the config and its token directory).

No cluster is used: these tests render and check the manifests offline.
"""

from __future__ import annotations

import base64
import copy
import importlib
import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import yaml

import exporter
from exporter.sharding import Shard, resolve_shard
from tests.conftest import READ_TOKEN, WRITE_TOKEN, require_tool
from tests.deploy.catalog import PROMETHEUS_DIR, ROOT, config_check, load_script

K8S = ROOT / "deploy" / "kubernetes"
OVERLAYS = sorted(p.parent.name for p in (K8S / "overlays").glob("*/kustomization.yaml"))
BASES = sorted(p.parent.name for p in (K8S / "base").glob("*/kustomization.yaml"))
# kubernetes-validate's oldest schema (1.25: Pod Security admission is GA from this release on,
# and so is the "restricted" profile these pods are written for) and its newest
KUBERNETES_VERSIONS = ("1.25.0", "1.37.0")
OPERATOR_KINDS = {
    ("monitoring.coreos.com/v1", "Prometheus"),
    ("monitoring.coreos.com/v1", "PrometheusRule"),
    ("monitoring.coreos.com/v1", "ServiceMonitor"),
    ("monitoring.coreos.com/v1", "PodMonitor"),
    ("monitoring.coreos.com/v1alpha1", "ScrapeConfig"),
}
EXPORTER = "digitalocean-exporter"
IMAGE = "ghcr.io/digitalocean-exporter/digitalocean-exporter"
RULE_FILES = ("recording.yml", "alerts.yml", "budgets.yml")
EXPORTER_PORT = 9212
TOKENS_SECRET = "digitalocean-exporter-tokens"
# a DigitalOcean personal access token, OAuth access token or refresh token
TOKEN_SHAPE = re.compile(r"do[opr]_v1_[0-9a-f]{64}")
# what a restricted pod may mount (Pod Security Standards, "restricted": volume types)
RESTRICTED_VOLUMES = {"configMap", "csi", "downwardAPI", "emptyDir", "ephemeral",
                      "persistentVolumeClaim", "projected", "secret"}
# containers of the operator's own pod that the Prometheus resource only patches by name
OPERATOR_CONTAINERS = {"prometheus", "config-reloader", "init-config-reloader"}


def require_module(name: str) -> ModuleType:
    """A Python module the tests need; under CI=true a missing one fails instead of skipping."""
    try:
        return importlib.import_module(name)
    except ImportError:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"the Python module {name} is required under CI=true but is not installed")
        pytest.skip(f"the Python module {name} is not installed")


@cache
def rendered(path: str) -> list[dict[str, Any]]:
    """`kubectl kustomize` of a kustomization directory under deploy/kubernetes."""
    result = subprocess.run([require_tool("kubectl"), "kustomize", str(K8S / path)],
                            capture_output=True, text=True, check=False, timeout=120)
    assert result.returncode == 0, result.stderr
    return [doc for doc in yaml.safe_load_all(result.stdout) if doc]


def overlay(name: str) -> list[dict[str, Any]]:
    return copy.deepcopy(rendered(f"overlays/{name}"))


def every_object() -> Iterator[tuple[str, dict[str, Any]]]:
    for name in OVERLAYS:
        for obj in overlay(name):
            yield name, obj


def object_id(obj: dict[str, Any]) -> str:
    return f"{obj['kind']}/{obj['metadata']['name']}"


def of_kind(objects: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    return [o for o in objects if o["kind"] == kind]


def pod_specs(objects: list[dict[str, Any]]) -> Iterator[tuple[str, dict[str, Any]]]:
    """Every pod spec, including the one a Prometheus resource makes the operator build."""
    for obj in objects:
        kind = obj["kind"]
        if kind in ("Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job"):
            yield object_id(obj), obj["spec"]["template"]["spec"]
        elif kind == "CronJob":
            yield object_id(obj), obj["spec"]["jobTemplate"]["spec"]["template"]["spec"]
        elif kind in ("Pod", "Prometheus", "Alertmanager", "PrometheusAgent", "ThanosRuler"):
            yield object_id(obj), obj["spec"]


def containers(spec: dict[str, Any]) -> list[dict[str, Any]]:
    return [*spec.get("initContainers", []), *spec.get("containers", [])]


def exporter_containers() -> Iterator[tuple[str, str, dict[str, Any], dict[str, Any]]]:
    """(overlay, object, pod spec, container) of every exporter container."""
    for name in OVERLAYS:
        for where, spec in pod_specs(overlay(name)):
            for container in spec["containers"]:
                if container["name"] == EXPORTER:
                    yield name, where, spec, container


# --- rendering and generated files ----------------------------------------------------------

def test_the_layout_has_the_four_deployments() -> None:
    assert OVERLAYS == ["sharded", "sidecar-operator", "sidecar-plain", "standalone"]
    assert {"standalone", "sidecar-operator", "sidecar-plain", "exporter-config",
            "prometheus-rules", "grafana-dashboards", "namespace"} <= set(BASES)


@pytest.mark.parametrize("path", [*(f"base/{b}" for b in BASES), *(f"overlays/{o}" for o in OVERLAYS)])
def test_renders(path: str) -> None:
    objects = rendered(path)
    assert objects
    ids = [(o["kind"], o["metadata"].get("namespace"), o["metadata"]["name"]) for o in objects]
    assert len(ids) == len(set(ids))


@pytest.mark.parametrize("name", OVERLAYS)
def test_overlays_put_everything_in_one_namespace_they_create(name: str) -> None:
    objects = overlay(name)
    [namespace] = of_kind(objects, "Namespace")
    assert namespace["metadata"]["name"] == "monitoring"
    assert "labels" not in namespace["metadata"], "the namespace may be shared: no Pod Security labels"
    assert {o["metadata"].get("namespace") for o in objects if o["kind"] != "Namespace"} == {"monitoring"}
    # the Namespace comes first, so a plain `kubectl apply -f` of the rendering works too
    assert objects[0] == namespace


@pytest.mark.parametrize("name", OVERLAYS)
def test_no_overlay_creates_a_secret(name: str) -> None:
    """Applying an overlay must never replace the user's token Secret (with placeholders, as
    it did when the overlays included the example Secret)."""
    assert of_kind(overlay(name), "Secret") == []
    kustomization = yaml.safe_load((K8S / "overlays" / name / "kustomization.yaml").read_text())
    assert "components" not in kustomization


@pytest.mark.parametrize("name", OVERLAYS)
def test_each_overlay_says_the_image_is_not_published(name: str) -> None:
    text = (K8S / "overlays" / name / "kustomization.yaml").read_text()
    assert "The image below is NOT published: build it from the Dockerfile" in text
    assert "No Secret is created here" in text


def generator() -> ModuleType:
    return load_script(K8S / "generate.py")


def test_generated_files_are_what_the_generator_writes() -> None:
    outputs = generator().outputs()
    assert len(outputs) == 4
    for path, text in outputs.items():
        assert path.read_text() == text, (
            f"{path.relative_to(ROOT)} is stale: run python deploy/kubernetes/generate.py"
        )


def test_generated_prometheus_rules_are_the_rule_files() -> None:
    rules = of_kind(rendered("base/prometheus-rules"), "PrometheusRule")
    by_name = {rule["metadata"]["name"]: rule["spec"]["groups"] for rule in rules}
    expected = {f"{EXPORTER}-{stem}": yaml.safe_load((PROMETHEUS_DIR / f"{stem}.yml").read_text())["groups"]
                for stem in ("recording", "alerts", "budgets")}
    assert by_name == expected
    assert sorted(p.name for p in PROMETHEUS_DIR.glob("*.yml") if p.name != "prometheus.yml") == [
        "alerts.yml", "budgets.yml", "recording.yml"]  # a new rule file must be added to generate.py


def test_generated_dashboards_are_the_dashboard_files() -> None:
    maps = of_kind(rendered("base/grafana-dashboards"), "ConfigMap")
    files = sorted((ROOT / "grafana" / "dashboards").glob("*.json"))
    assert len(maps) == len(files) == 5
    for config_map, path in zip(sorted(maps, key=lambda m: next(iter(m["data"]))), files, strict=True):
        assert config_map["metadata"]["labels"]["grafana_dashboard"] == "1"
        assert config_map["data"] == {path.name: path.read_text()}
        assert config_map["metadata"]["name"] == f"grafana-dashboard-{json.loads(path.read_text())['uid']}"
        # kubectl apply keeps a copy in an annotation, which must stay under 256 KiB
        assert len(path.read_bytes()) < 200 * 1024


def test_the_plain_prometheus_rules_are_the_rule_files() -> None:
    [config_map] = [o for o in rendered("base/sidecar-plain")
                    if o["metadata"]["name"] == "prometheus-digitalocean-rules"]
    assert config_map["data"] == {name: (PROMETHEUS_DIR / name).read_text()
                                  for name in ("recording.yml", "alerts.yml", "budgets.yml")}


def test_the_generator_check_mode_agrees() -> None:
    result = subprocess.run([sys.executable, str(K8S / "generate.py"), "--check"],
                            capture_output=True, text=True, check=False, timeout=60)
    assert (result.returncode, result.stdout) == (0, "")


# --- schema validation ----------------------------------------------------------------------

@pytest.mark.parametrize("version", KUBERNETES_VERSIONS)
@pytest.mark.parametrize("name", OVERLAYS)
def test_kubernetes_objects_are_valid_strictly(name: str, version: str) -> None:
    validate = require_module("kubernetes_validate")
    checked = []
    for obj in overlay(name):
        if (obj["apiVersion"], obj["kind"]) in OPERATOR_KINDS:
            continue  # custom resources: checked against the operator's schema below
        try:
            validate.validate(obj, version, strict=True)
        except validate.ValidationError as exc:
            pytest.fail(f"{object_id(obj)} is invalid for Kubernetes {version}: {exc.message} "
                        f"at {'.'.join(map(str, exc.path))}")
        checked.append(obj["kind"])
    assert {"ConfigMap", "Namespace"} <= set(checked)


@pytest.mark.parametrize("version", KUBERNETES_VERSIONS)
def test_the_example_secret_is_valid_strictly(version: str) -> None:
    validate = require_module("kubernetes_validate")
    validate.validate(example_secret_object(), version, strict=True)


@pytest.mark.parametrize("version", KUBERNETES_VERSIONS)
def test_the_prometheus_resource_pod_parts_are_valid_kubernetes(version: str) -> None:
    """The operator copies the exporter container, volumes and security context of the
    Prometheus resource into a real pod: they must be valid there too, strictly."""
    validate = require_module("kubernetes_validate")
    [prometheus] = of_kind(overlay("sidecar-operator"), "Prometheus")
    spec = prometheus["spec"]
    pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "prometheus-digitalocean-0"},
           "spec": {"securityContext": spec["securityContext"], "volumes": spec["volumes"],
                    "containers": [c for c in spec["containers"] if c["name"] == EXPORTER]}}
    validate.validate(pod, version, strict=True)


def test_strict_validation_rejects_an_unknown_field() -> None:
    validate = require_module("kubernetes_validate")
    [deployment] = of_kind(overlay("standalone"), "Deployment")
    deployment["spec"]["template"]["spec"]["containers"][0]["securityContext"]["readOnlyRootFs"] = True
    with pytest.raises(validate.ValidationError):
        validate.validate(deployment, KUBERNETES_VERSIONS[-1], strict=True)


def operator_model(api_version: str, kind: str) -> Any:
    group_version = api_version.rsplit("/", 1)[1]
    module = require_module(f"cloudcoil.models.prometheus_operator.{group_version}")
    return getattr(module, kind)


def check_operator_object(obj: dict[str, Any]) -> None:
    """Validates against the operator's CRD schema (as pydantic models) and fails on any field
    the schema does not know, which the models would otherwise drop silently. (An int-looking
    string quantity such as cpu: "1" trips these models' int-or-string fields: write 1000m.)"""
    model = operator_model(obj["apiVersion"], obj["kind"])
    parsed = model.model_validate(obj)
    assert parsed.model_dump(by_alias=True, exclude_unset=True, mode="json") == obj, (
        f"{object_id(obj)} has fields or values the {obj['kind']} schema does not take"
    )


def test_prometheus_operator_objects_match_the_operator_schema() -> None:
    seen = set()
    for _, obj in every_object():
        if (obj["apiVersion"], obj["kind"]) in OPERATOR_KINDS:
            check_operator_object(obj)
            seen.add(obj["kind"])
    assert seen == {"Prometheus", "PrometheusRule", "ServiceMonitor", "ScrapeConfig"}


@pytest.mark.parametrize(("kind", "break_it"), [
    ("ServiceMonitor", lambda o: o["spec"]["endpoints"][0].update(scrapeEvery="60s")),
    ("ServiceMonitor", lambda o: o["spec"]["endpoints"][0].update(interval="one minute")),
    ("PrometheusRule", lambda o: o["spec"]["groups"][0].update(rule=[])),
    ("Prometheus", lambda o: o["spec"]["containers"][-1].update(imagePull="Always")),
])
def test_the_operator_schema_check_catches_mistakes(kind: str, break_it: Any) -> None:
    objects = overlay("standalone") + overlay("sidecar-operator")
    obj = next(o for o in objects if o["kind"] == kind)
    break_it(obj)
    with pytest.raises((AssertionError, ValueError)):
        check_operator_object(obj)


# --- Pod Security "restricted" ----------------------------------------------------------------

def effective(spec: dict[str, Any], container: dict[str, Any], key: str) -> Any:
    """A security setting as the container gets it: its own, else the pod's."""
    own = container.get("securityContext", {})
    return own[key] if key in own else spec.get("securityContext", {}).get(key)


def test_every_overlay_has_pods() -> None:
    counts = {name: len(list(pod_specs(overlay(name)))) for name in OVERLAYS}
    assert counts == {"sharded": 1, "sidecar-operator": 1, "sidecar-plain": 1, "standalone": 1}


def restricted_problems(objects: list[dict[str, Any]]) -> list[str]:
    """What keeps each pod of `objects` from Pod Security "restricted" (and from our own rules:
    numeric users and groups, no service account token, requests and limits, pinned images)."""
    problems = []
    for where, spec in pod_specs(objects):
        pod = spec.get("securityContext", {})
        wanted_pod = {"runAsNonRoot": True, "seccompProfile": {"type": "RuntimeDefault"}}
        problems += [f"{where}: securityContext.{k} is not {v}" for k, v in wanted_pod.items()
                     if pod.get(k) != v]
        problems += [f"{where}: securityContext.{k} is not a non-root number"
                     for k in ("runAsUser", "runAsGroup", "fsGroup")
                     if not (isinstance(pod.get(k), int) and pod[k] > 0)]
        if spec.get("automountServiceAccountToken") is not False:
            problems.append(f"{where}: mounts a service account token")
        problems += [f"{where}: {k} is set" for k in ("hostNetwork", "hostPID", "hostIPC") if spec.get(k)]
        problems += [f"{where}: volume {v['name']} is not a restricted volume type"
                     for v in spec.get("volumes", []) if not set(v) - {"name"} <= RESTRICTED_VOLUMES]
        if not containers(spec):
            problems.append(f"{where}: no containers")
        for container in containers(spec):
            what = f"{where}: container {container['name']}"
            context = container.get("securityContext", {})
            wanted = {"allowPrivilegeEscalation": False, "readOnlyRootFilesystem": True,
                      "privileged": False, "capabilities": {"drop": ["ALL"]}}
            problems += [f"{what}: securityContext.{k} is not {v}" for k, v in wanted.items()
                         if context.get(k) != v]
            if effective(spec, container, "runAsNonRoot") is not True:
                problems.append(f"{what}: may run as root")
            user = effective(spec, container, "runAsUser")
            if not (isinstance(user, int) and user > 0):
                problems.append(f"{what}: runAsUser is not a non-root number")
            if effective(spec, container, "seccompProfile") != {"type": "RuntimeDefault"}:
                problems.append(f"{what}: seccompProfile is not RuntimeDefault")
            problems += [f"{what}: hostPort" for port in container.get("ports", []) if "hostPort" in port]
            if where.startswith("Prometheus/") and container["name"] in OPERATOR_CONTAINERS:
                continue  # the operator gives its own containers their image and resources
            resources = container.get("resources", {})
            if not {"cpu", "memory"} <= set(resources.get("requests", {})):
                problems.append(f"{what}: no cpu and memory requests")
            if "memory" not in resources.get("limits", {}):
                problems.append(f"{what}: no memory limit")
            if not re.search(r":v?\d+\.\d+\.\d+$", container.get("image", "")):
                problems.append(f"{what}: image not pinned to a version tag")
    return problems


@pytest.mark.parametrize("name", OVERLAYS)
def test_every_pod_is_restricted(name: str) -> None:
    assert restricted_problems(overlay(name)) == []


@pytest.mark.parametrize(("path", "key", "value", "problem"), [
    (("containers", 0, "securityContext", "capabilities"), "drop", [],
     "container prometheus: securityContext.capabilities is not {'drop': ['ALL']}"),
    (("containers", 1, "securityContext"), "readOnlyRootFilesystem", False,
     "container digitalocean-exporter: securityContext.readOnlyRootFilesystem is not True"),
    (("containers", 1, "securityContext"), "runAsUser", 0,
     "container digitalocean-exporter: runAsUser is not a non-root number"),
    (("securityContext",), "seccompProfile", {"type": "Unconfined"},
     "securityContext.seccompProfile is not {'type': 'RuntimeDefault'}"),
    ((), "automountServiceAccountToken", True, "mounts a service account token"),
    (("containers", 0), "image", "quay.io/prometheus/prometheus:latest",
     "container prometheus: image not pinned to a version tag"),
], ids=["capabilities", "writable-root", "root-user", "seccomp", "token", "latest"])
def test_the_restricted_check_catches_each_slip(
    path: tuple[str | int, ...], key: str, value: Any, problem: str
) -> None:
    objects = overlay("sidecar-plain")
    [deployment] = of_kind(objects, "Deployment")
    node: Any = deployment["spec"]["template"]["spec"]
    for step in path:
        node = node[step]
    node[key] = value
    assert restricted_problems(objects) == [f"Deployment/prometheus-digitalocean: {problem}"]


def test_every_service_account_mounts_no_token() -> None:
    for _, obj in every_object():
        if obj["kind"] == "ServiceAccount":
            assert obj.get("automountServiceAccountToken") is False, object_id(obj)


# --- the exporter container -----------------------------------------------------------------

SHARDING_ARGS = ["--shard.auto"]


def sharding_env(container: dict[str, Any]) -> dict[str, Any]:
    return {e["name"]: e.get("value", e.get("valueFrom")) for e in container.get("env", [])}


def test_the_exporter_container_is_the_same_everywhere() -> None:
    """The four copies (Deployment, StatefulSet, Prometheus resource, plain Prometheus) only
    differ in the names of the volumes they mount (each pod names its own), and the sharded
    one in its sharding flag and environment."""
    found = list(exporter_containers())
    assert [name for name, *_ in found] == OVERLAYS

    def comparable(container: dict[str, Any]) -> dict[str, Any]:
        mounts = [{k: v for k, v in m.items() if k != "name"} for m in container["volumeMounts"]]
        shared = {k: v for k, v in container.items() if k != "env"}
        if container["args"][-len(SHARDING_ARGS):] == SHARDING_ARGS:
            shared["args"] = container["args"][:-len(SHARDING_ARGS)]
        return {**shared, "volumeMounts": mounts}

    first = comparable(found[0][3])
    for name, where, _, container in found[1:]:
        assert comparable(container) == first, (name, where)


def test_the_exporter_container() -> None:
    for name, where, spec, container in exporter_containers():
        what = f"{name} {where}"
        assert container["image"] == f"{IMAGE}:{exporter.__version__}", what
        sharding = SHARDING_ARGS if name == "sharded" else []
        assert container["args"] == ["--config.file=/etc/digitalocean-exporter/config.yml",
                                     f"--web.listen-address=:{EXPORTER_PORT}", "--log.format=json",
                                     *sharding], what
        assert ("env" in container) == (name == "sharded"), what
        assert container["ports"] == [{"name": "http-metrics", "containerPort": EXPORTER_PORT,
                                       "protocol": "TCP"}], what
        assert container["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": "http-metrics"}, what
        assert container["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": "http-metrics"}, what
        resources = container["resources"]
        assert set(resources["requests"]) == set(resources["limits"]) == {"cpu", "memory"}, what
        assert effective(spec, container, "runAsUser") == 65532, what  # the image's USER
        volumes = {v["name"]: v for v in spec["volumes"]}
        mounts = {volumes[m["name"]].get("secret", {}).get("secretName"): m
                  for m in container["volumeMounts"] if "secret" in volumes[m["name"]]}
        assert set(mounts) == {TOKENS_SECRET}, what
        tokens = mounts[TOKENS_SECRET]
        # a subPath mount never sees the kubelet's ..data swap, so a rotation would be missed
        assert not {"subPath", "subPathExpr"} & set(tokens), what
        assert tokens["readOnly"] is True, what
        assert tokens["mountPath"] == "/var/run/secrets/digitalocean", what
        [secret_volume] = [v for v in spec["volumes"]
                           if v.get("secret", {}).get("secretName") == TOKENS_SECRET]
        # readable through the pod's fsGroup, not by others (the exporter warns about that)
        assert secret_volume["secret"]["defaultMode"] == 0o440, what
        assert isinstance(spec["securityContext"].get("fsGroup"), int), what


def exporter_config(name: str) -> dict[str, Any]:
    [config_map] = [o for o in overlay(name) if o["metadata"]["name"] == "digitalocean-exporter-config"]
    config: dict[str, Any] = yaml.safe_load(config_map["data"]["config.yml"])
    return config


EXAMPLE_SECRET = K8S / "components" / "example-secret"


def example_secret_object() -> dict[str, Any]:
    """The opt-in example Secret (components/example-secret), as a kustomization that adds it
    to an overlay renders it."""
    secret: dict[str, Any] = yaml.safe_load((EXAMPLE_SECRET / "secret.yaml").read_text())
    return secret


def example_secret() -> dict[str, str]:
    secret = example_secret_object()
    assert secret["metadata"]["name"] == TOKENS_SECRET
    data = {k: base64.b64decode(v).decode() for k, v in secret.get("data", {}).items()}
    return {**data, **secret.get("stringData", {})}


def test_the_example_secret_is_opt_in_and_renders_into_an_overlay(tmp_path: Path) -> None:
    """What the overlays' comments tell a user trying the manifests: add the component (here
    in an overlay of one's own, as docs/deploy.md shows)."""
    kustomization = {
        "apiVersion": "kustomize.config.k8s.io/v1beta1", "kind": "Kustomization",
        "namespace": "monitoring",
        "resources": [os.path.relpath(K8S / "overlays" / "standalone", tmp_path)],
        "components": [os.path.relpath(EXAMPLE_SECRET, tmp_path)],
    }
    (tmp_path / "kustomization.yaml").write_text(yaml.safe_dump(kustomization))
    result = subprocess.run([require_tool("kubectl"), "kustomize", str(tmp_path)],
                            capture_output=True, text=True, check=False, timeout=120)
    assert result.returncode == 0, result.stderr
    [secret] = of_kind([d for d in yaml.safe_load_all(result.stdout) if d], "Secret")
    assert (secret["metadata"]["name"], secret["metadata"]["namespace"]) == (TOKENS_SECRET, "monitoring")
    assert set(secret["stringData"]) == {"production", "staging"}


@pytest.mark.parametrize("name", OVERLAYS)
def test_the_config_reads_the_mounted_secret_and_passes_config_check(name: str, tmp_path: Path) -> None:
    config = exporter_config(name)
    assert config["tokens_dir"] == "/var/run/secrets/digitalocean"
    assert config["token_policy"]["write_scopes"] == "refuse"
    # the same check with the Secret's keys as files in a directory of our own, holding tokens
    secret = example_secret()
    tokens = dict.fromkeys(secret, "dop_v1_" + "0" * 64)
    result = config_check(config, tokens, 0o440, tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    for account in ("production", "staging"):
        assert account in result.stdout
    assert "readable by other users" not in result.stdout + result.stderr
    # the placeholders as they are: no token, refused with exit code 2 (docs/deploy.md)
    (tmp_path / "placeholders").mkdir()
    refused = config_check(config, secret, 0o440, tmp_path / "placeholders")
    assert refused.returncode == 2, refused.stdout + refused.stderr
    assert "is skipped: it does not hold a DigitalOcean API token" in refused.stderr


# --- secrets ------------------------------------------------------------------------------------

def test_no_secret_holds_anything_shaped_like_a_token() -> None:
    secrets = [obj for _, obj in every_object() if obj["kind"] == "Secret"]
    for secret in [*secrets, example_secret_object()]:
        values = [base64.b64decode(v).decode() for v in secret.get("data", {}).values()]
        values += list(secret.get("stringData", {}).values())
        for value in values:
            assert not TOKEN_SHAPE.search(value), object_id(secret)
            assert "REPLACE-ME" in value, object_id(secret)
    # nor anywhere else in what is deployed or rendered
    for path in K8S.rglob("*"):
        if path.is_file():
            assert not TOKEN_SHAPE.search(path.read_text()), path
    for name in OVERLAYS:
        assert not TOKEN_SHAPE.search(yaml.safe_dump_all(overlay(name))), name


def test_the_token_scan_would_find_a_token() -> None:
    assert TOKEN_SHAPE.search(f"production: {READ_TOKEN}")
    encoded = base64.b64encode(WRITE_TOKEN.encode()).decode()
    assert TOKEN_SHAPE.search(base64.b64decode(encoded).decode())
    assert TOKEN_SHAPE.search("dor_v1_" + "ab" * 32)


# --- how the pieces fit --------------------------------------------------------------------------

def alert_job() -> str:
    thresholds = json.loads((PROMETHEUS_DIR / "thresholds.json").read_text())["thresholds"]
    job: str = thresholds["exporter_job"]["value"]
    return job


def matches(selector: dict[str, str], labels: dict[str, str]) -> bool:
    return all(labels.get(k) == v for k, v in selector.items())


def test_standalone_service_monitor_scrapes_the_exporter_as_the_alerted_job() -> None:
    objects = overlay("standalone")
    [deployment] = of_kind(objects, "Deployment")
    [service] = of_kind(objects, "Service")
    [monitor] = of_kind(objects, "ServiceMonitor")
    [policy] = of_kind(objects, "NetworkPolicy")
    pod_labels = deployment["spec"]["template"]["metadata"]["labels"]
    assert matches(deployment["spec"]["selector"]["matchLabels"], pod_labels)
    assert matches(service["spec"]["selector"], pod_labels)
    assert matches(monitor["spec"]["selector"]["matchLabels"], service["metadata"]["labels"])
    [port] = service["spec"]["ports"]
    assert (port["targetPort"], port["port"]) == ("http-metrics", EXPORTER_PORT)
    [endpoint] = monitor["spec"]["endpoints"]
    assert endpoint["port"] == port["name"]
    assert endpoint["path"] == "/metrics"
    assert {"action": "replace", "targetLabel": "job", "replacement": alert_job()} in endpoint["relabelings"]
    # the network policy: in from Prometheus pods to the metrics port only; out DNS and HTTPS only
    assert matches(policy["spec"]["podSelector"]["matchLabels"], pod_labels)
    assert policy["spec"]["policyTypes"] == ["Ingress", "Egress"]
    [ingress] = policy["spec"]["ingress"]
    assert ingress["ports"] == [{"protocol": "TCP", "port": EXPORTER_PORT}]
    assert ingress["from"] == [{"namespaceSelector": {},
                                "podSelector": {"matchLabels": {"app.kubernetes.io/name": "prometheus"}}}]
    egress_ports = [(p["protocol"], p["port"]) for rule in policy["spec"]["egress"] for p in rule["ports"]]
    assert sorted(egress_ports) == [("TCP", 53), ("TCP", 443), ("UDP", 53)]
    assert all(set(rule) == {"ports"} for rule in policy["spec"]["egress"])


def test_the_sharded_statefulset_runs_one_shard_per_pod_and_prometheus_scrapes_each() -> None:
    objects = overlay("sharded")
    assert of_kind(objects, "Deployment") == []
    [statefulset] = of_kind(objects, "StatefulSet")
    [service] = of_kind(objects, "Service")
    [monitor] = of_kind(objects, "ServiceMonitor")
    [policy] = of_kind(objects, "NetworkPolicy")
    spec = statefulset["spec"]
    pod_labels = spec["template"]["metadata"]["labels"]
    assert matches(spec["selector"]["matchLabels"], pod_labels)
    # headless, and the StatefulSet's governing Service: every pod is an endpoint of its own
    assert spec["serviceName"] == service["metadata"]["name"]
    assert service["spec"]["clusterIP"] == "None"
    assert matches(service["spec"]["selector"], pod_labels)
    assert matches(monitor["spec"]["selector"]["matchLabels"], service["metadata"]["labels"])
    assert matches(policy["spec"]["podSelector"]["matchLabels"], pod_labels)
    [endpoint] = monitor["spec"]["endpoints"]
    assert {"action": "replace", "targetLabel": "job", "replacement": alert_job()} in endpoint["relabelings"]
    [container] = [c for c in spec["template"]["spec"]["containers"] if c["name"] == EXPORTER]
    env = sharding_env(container)
    assert env == {"POD_NAME": {"fieldRef": {"fieldPath": "metadata.name"}},
                   "DO_EXPORTER_TOTAL_SHARDS": str(spec["replicas"])}
    assert spec["replicas"] == 3
    assert spec["podManagementPolicy"] == "Parallel"
    # the pods the StatefulSet names, <name>-<ordinal>, are the shards 0..replicas-1, each once
    shards = [
        resolve_shard(None, None, True, {"POD_NAME": f"{statefulset['metadata']['name']}-{i}",
                                         "DO_EXPORTER_TOTAL_SHARDS": env["DO_EXPORTER_TOTAL_SHARDS"]})
        for i in range(spec["replicas"])
    ]
    assert shards == [Shard(i, 3) for i in range(3)]


def test_the_operator_sidecar_scrapes_localhost_and_loads_the_rules() -> None:
    objects = overlay("sidecar-operator")
    [prometheus] = of_kind(objects, "Prometheus")
    [scrape] = of_kind(objects, "ScrapeConfig")
    rules = of_kind(objects, "PrometheusRule")
    assert len(rules) == 3
    spec = prometheus["spec"]
    assert spec["replicas"] == 1  # one exporter per token (docs/deploy.md)
    assert matches(spec["scrapeConfigSelector"]["matchLabels"], scrape["metadata"]["labels"])
    for rule in rules:
        assert matches(spec["ruleSelector"]["matchLabels"], rule["metadata"]["labels"])
    assert scrape["spec"]["jobName"] == alert_job()
    assert scrape["spec"]["staticConfigs"] == [{"targets": [f"localhost:{EXPORTER_PORT}"]}]
    assert spec["serviceAccountName"] in {o["metadata"]["name"] for o in of_kind(objects, "ServiceAccount")}
    volumes = {v["name"] for v in spec["volumes"]}
    [container] = [c for c in spec["containers"] if c["name"] == EXPORTER]
    assert {m["name"] for m in container["volumeMounts"]} <= volumes


def test_the_plain_sidecar_scrapes_127_0_0_1_and_promtool_accepts_its_config(tmp_path: Path) -> None:
    objects = overlay("sidecar-plain")
    maps = {o["metadata"]["name"]: o for o in of_kind(objects, "ConfigMap")}
    config = yaml.safe_load(maps["prometheus-digitalocean-config"]["data"]["prometheus.yml"])
    [job] = config["scrape_configs"]
    assert job["job_name"] == alert_job()
    assert job["static_configs"] == [{"targets": [f"127.0.0.1:{EXPORTER_PORT}"]}]
    [deployment] = of_kind(objects, "Deployment")
    spec = deployment["spec"]["template"]["spec"]
    volumes = {v["name"]: v for v in spec["volumes"]}
    [prometheus] = [c for c in spec["containers"] if c["name"] == "prometheus"]
    mounts = {volumes[m["name"]].get("configMap", {}).get("name"): m["mountPath"]
              for m in prometheus["volumeMounts"]}
    config_dir = mounts["prometheus-digitalocean-config"]
    assert f"--config.file={config_dir}/prometheus.yml" in prometheus["args"]
    rules_dir = mounts["prometheus-digitalocean-rules"]
    assert config["rule_files"] == [f"{rules_dir}/{n}" for n in RULE_FILES]
    # promtool on the config as mounted, with the rules from the ConfigMap where it finds them
    for file_name, text in maps["prometheus-digitalocean-rules"]["data"].items():
        (tmp_path / file_name).write_text(text)
    config["rule_files"] = [str(tmp_path / Path(p).name) for p in config["rule_files"]]
    (tmp_path / "prometheus.yml").write_text(yaml.safe_dump(config))
    result = subprocess.run([require_tool("promtool"), "check", "config", str(tmp_path / "prometheus.yml")],
                            capture_output=True, text=True, check=False, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "3 rule files found" in result.stdout + result.stderr
    # its network policy lets other pods reach Prometheus only, not the exporter's port
    [policy] = of_kind(objects, "NetworkPolicy")
    pod_labels = deployment["spec"]["template"]["metadata"]["labels"]
    assert matches(policy["spec"]["podSelector"]["matchLabels"], pod_labels)
    assert [p["port"] for rule in policy["spec"]["ingress"] for p in rule["ports"]] == [9090]


@pytest.mark.parametrize("name", OVERLAYS)
def test_images_are_pinned_and_the_exporter_tag_is_the_package_version(name: str) -> None:
    kustomization = yaml.safe_load((K8S / "overlays" / name / "kustomization.yaml").read_text())
    assert kustomization["images"] == [{
        "name": EXPORTER, "newName": "ghcr.io/digitalocean-exporter/digitalocean-exporter",
        "newTag": exporter.__version__,
    }]
    for where, spec in pod_specs(overlay(name)):
        for container in containers(spec):
            if "image" in container:
                image = container["image"]
                assert re.search(r":v?\d+\.\d+\.\d+$", image), (where, image)


@pytest.mark.parametrize("name", OVERLAYS)
def test_every_overlay_ships_the_dashboards(name: str) -> None:
    dashboards = [o for o in overlay(name) if o["metadata"].get("labels", {}).get("grafana_dashboard") == "1"]
    assert len(dashboards) == 5
