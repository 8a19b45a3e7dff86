"""What each overlay promises: local is a whole stack in the cluster with fake dev credentials;
production talks to external Kafka over SASL_SSL with its CA, a managed Postgres, S3 and the real
provider, creates no Secret and is reached through an Ingress with TLS."""

from __future__ import annotations

import base64
from urllib.parse import urlsplit

from common.settings import CUTOUT_EMULATOR_API_KEY, DASHSCOPE_BASE_URL, EMULATOR_API_KEY, Settings

from tests.deploy_k8s.manifests import Rendered, component, secret_refs

# KEDA's names for the SASL mechanisms (its kafka scaler's `sasl` parameter).
KEDA_SASL = {"PLAIN": "plaintext", "SCRAM-SHA-256": "scram_sha256", "SCRAM-SHA-512": "scram_sha512"}


def _dev_secret(local: Rendered) -> dict[str, str]:
    secret = next(s for s in local.of_kind("Secret") if s["metadata"]["name"].startswith("dancer-secrets"))
    return {k: base64.b64decode(v).decode() for k, v in secret["data"].items()}


def _service_address(rendered: Rendered, url: str) -> tuple[str, int]:
    parts = urlsplit(url if "://" in url else f"tcp://{url}")
    assert parts.hostname and parts.port, url
    service = rendered.get("Service", parts.hostname)
    assert parts.port in [p["port"] for p in service["spec"]["ports"]], f"{url}: no such port on the Service"
    return parts.hostname, parts.port


def test_local_runs_everything_in_the_cluster(local: Rendered) -> None:
    config = local.config
    assert _service_address(local, config["KAFKA_BOOTSTRAP_SERVERS"]) == ("kafka", 9092)
    assert _service_address(local, config["DASHSCOPE_BASE_URL"]) == ("emulators", 8100)
    assert _service_address(local, config["S3_ENDPOINT_URL"]) == ("minio", 9000)
    assert config["MEDIA_BACKEND"] == "s3", "a local directory cannot be shared by gateway and archiver pods"
    assert config["ACCESS_MODE"] == "open"
    for name in ("kafka", "postgres", "minio"):
        assert local.get("StatefulSet", name)["spec"]["replicas"] == 1
    kafka = local.get("StatefulSet", "kafka")["spec"]["template"]["spec"]["containers"][0]
    assert kafka["image"].startswith("apache/kafka:")
    env = {e["name"]: e.get("value") for e in kafka["env"]}
    assert env["KAFKA_PROCESS_ROLES"] == "broker,controller", "one KRaft node"
    assert env["KAFKA_ADVERTISED_LISTENERS"] == f"PLAINTEXT://{config['KAFKA_BOOTSTRAP_SERVERS']}"
    emulator = local.get("Deployment", "emulators")["spec"]["template"]["spec"]["containers"][0]
    emulator_env = {e["name"]: e.get("value") for e in emulator["env"]}
    assert emulator_env["EMULATOR_PUBLIC_URL"] == "http://emulators:8100"
    assert emulator_env["EMULATOR_HOST"] == "0.0.0.0"


def test_local_dev_secret_is_fake_and_consistent(local: Rendered) -> None:
    secret = _dev_secret(local)
    for key, value in secret.items():
        readable = (
            base64.b64decode(value.removeprefix("whsec_")).decode() if value.startswith("whsec_") else value
        )
        assert readable in (EMULATOR_API_KEY, CUTOUT_EMULATOR_API_KEY) or "dev-only" in readable, (
            f"{key} is not an obviously fake dev value"
        )
    password = secret["POSTGRES_PASSWORD"]
    assert urlsplit(secret["DATABASE_URL"]).password == password
    assert urlsplit(secret["KEDA_POSTGRES_CONNECTION"]).password == password
    assert urlsplit(secret["KEDA_POSTGRES_CONNECTION"]).scheme == "postgresql", "KEDA needs a libpq URL"
    assert _service_address(local, secret["DATABASE_URL"].split("@", 1)[1].split("/", 1)[0]) == (
        "postgres",
        5432,
    )
    settings = Settings.model_validate(
        {k.lower(): v for k, v in secret.items() if k.lower() in Settings.model_fields}
    )
    assert settings.webhook_secret.get_secret_value().startswith("whsec_")
    minio = local.get("StatefulSet", "minio")["spec"]["template"]["spec"]
    assert {key for _, _, key, _ in secret_refs(minio)} == {"S3_ACCESS_KEY_ID", "S3_SECRET_ACCESS_KEY"}


def test_production_creates_no_secret(production: Rendered) -> None:
    assert production.of_kind("Secret") == []


def test_production_uses_external_kafka_over_sasl_ssl(production: Rendered) -> None:
    config = production.config
    assert config["KAFKA_SECURITY_PROTOCOL"] == "SASL_SSL"
    assert config["KAFKA_REPLICATION_FACTOR"] == "3"
    assert config["KAFKA_MIN_INSYNC_REPLICAS"] == "2"
    assert config["KAFKA_SASL_USERNAME"]
    assert production.of_kind("StatefulSet") == [], "no in-cluster Kafka, Postgres or MinIO"
    # KEDA reads the lag the same way: same mechanism, TLS, user, password and CA.
    keda = production.get("ConfigMap", "dancer-keda-kafka")["data"]
    assert keda == {"sasl": KEDA_SASL[config["KAFKA_SASL_MECHANISM"]], "tls": "enable"}
    auth = production.get("TriggerAuthentication", "dancer-kafka")["spec"]
    parameters = {r["parameter"] for r in auth["secretTargetRef"] + auth["configMapTargetRef"]}
    assert parameters == {"sasl", "tls", "username", "password", "ca"}


def test_production_mounts_the_kafka_ca_where_the_settings_say(production: Rendered) -> None:
    ca_file = production.config["KAFKA_SSL_CA_FILE"]
    directory, _, file_name = ca_file.rpartition("/")
    for workload, pod in production.workloads():
        volumes = {v["name"]: v for v in pod.get("volumes", [])}
        mounts = {m["mountPath"]: m for m in pod["containers"][0].get("volumeMounts", [])}
        name = workload["metadata"]["name"]
        assert directory in mounts, f"{name} does not mount the Kafka CA at {directory}"
        volume = volumes[mounts[directory]["name"]]
        assert volume["secret"]["secretName"] == "dancer-kafka-ca"
        assert file_name in [item["path"] for item in volume["secret"]["items"]]


def test_production_talks_to_the_real_provider_with_keys_at_the_door(production: Rendered) -> None:
    config = production.config
    assert config["DASHSCOPE_BASE_URL"] == DASHSCOPE_BASE_URL
    assert config["ACCESS_MODE"] == "keys"
    assert config["MEDIA_BACKEND"] == "s3"
    assert not [d for d in production.of_kind("Deployment") if component(d) == "emulator"]
    assert not any(v.lower() == "true" for k, v in config.items() if k.endswith("_ALLOW_HTTP"))


def test_production_keeps_two_of_what_can_have_two(production: Rendered) -> None:
    for so in production.of_kind("ScaledObject"):
        expected = 1 if so["metadata"]["name"] == "synthesizer" else 2
        assert so["spec"]["minReplicaCount"] == expected, so["metadata"]["name"]
    assert production.get("HorizontalPodAutoscaler", "gateway")["spec"]["minReplicas"] >= 3


def test_production_ingress_serves_the_public_api_over_tls(production: Rendered) -> None:
    ingress = production.get("Ingress", "gateway")
    host = urlsplit(production.config["PUBLIC_BASE_URL"]).hostname
    assert production.config["PUBLIC_BASE_URL"].startswith("https://")
    assert ingress["spec"]["tls"] == [{"hosts": [host], "secretName": "dancer-tls"}]
    (rule,) = ingress["spec"]["rules"]
    assert rule["host"] == host
    paths = {p["path"] for p in rule["http"]["paths"]}
    assert {"/api", "/media", "/schemas"} <= paths
    for internal in ("/metrics", "/healthz", "/readyz"):
        assert not any(internal.startswith(p) for p in paths), f"{internal} would be public"
    gateway = production.get("Service", "gateway")
    for path in rule["http"]["paths"]:
        backend = path["backend"]["service"]
        assert backend["name"] == "gateway"
        assert backend["port"]["name"] in [p["name"] for p in gateway["spec"]["ports"]]
    body = ingress["metadata"]["annotations"]["nginx.ingress.kubernetes.io/proxy-body-size"]
    max_body = int(production.config.get("MAX_BODY_BYTES", Settings.model_fields["max_body_bytes"].default))
    assert int(body.removesuffix("m")) * 2**20 >= max_body, "the proxy would refuse what the gateway takes"
