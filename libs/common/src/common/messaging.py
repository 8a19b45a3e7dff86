"""Kafka plumbing shared by every service: the broker, topics, and CloudEvents-style publishing."""

from __future__ import annotations

import logging
import ssl
import uuid
from collections.abc import Iterable
from datetime import UTC
from typing import Any

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError, for_code
from faststream.kafka import KafkaBroker
from faststream.kafka.security import parse_security
from faststream.security import BaseSecurity, SASLPlaintext, SASLScram256, SASLScram512

from common import topics
from common.events import Event
from common.settings import Settings

SPEC_VERSION = "1.0"
TYPE_PREFIX = "com.dancer."
SCHEMA_VERSION = 1
FACT_NAMESPACE = uuid.UUID("6f1c1d2e-5b7a-4c39-9a51-2f0d3c4b5a60")


log = logging.getLogger(__name__)
SASL = {"PLAIN": SASLPlaintext, "SCRAM-SHA-256": SASLScram256, "SCRAM-SHA-512": SASLScram512}
PASSWORD_OPTION = "sasl_plain_password"


def kafka_security(settings: Settings) -> BaseSecurity | None:
    """The one source of every Kafka client's TLS and SASL settings (None: plaintext, no login).

    FastStream's broker takes this object; aiokafka's own clients take `kafka_options`, made from it by
    FastStream's mapping, so both always agree. TLS verifies the brokers against `KAFKA_SSL_CA_FILE`
    (the system's CAs when empty). The password is only in the object's slot: its repr never shows it."""
    protocol = settings.kafka_security_protocol
    if protocol == "PLAINTEXT":
        return None
    context = None
    if protocol in ("SSL", "SASL_SSL"):
        context = ssl.create_default_context(cafile=settings.kafka_ssl_ca_file or None)
    if protocol == "SSL":
        return BaseSecurity(ssl_context=context, use_ssl=True)
    if not settings.kafka_sasl_username:
        raise ValueError(f"KAFKA_SECURITY_PROTOCOL={protocol} needs KAFKA_SASL_USERNAME (and its password)")
    login = SASL[settings.kafka_sasl_mechanism]
    password = settings.kafka_sasl_password.get_secret_value()
    return login(settings.kafka_sasl_username, password, ssl_context=context, use_ssl=context is not None)


class KafkaOptions(dict[str, Any]):
    """Keyword arguments of an aiokafka client; its repr hides the password."""

    def __repr__(self) -> str:
        return repr({k: "**********" if k == PASSWORD_OPTION and v else v for k, v in self.items()})


def kafka_options(settings: Settings) -> KafkaOptions:
    """`kafka_security` as keyword arguments of AIOKafkaAdminClient, AIOKafkaConsumer and AIOKafkaProducer."""
    return KafkaOptions(parse_security(kafka_security(settings)))


def make_broker(settings: Settings, client_id: str, graceful_timeout: float = 15.0) -> KafkaBroker:
    # acks="all" + idempotence: a published event is on the broker before the stage commits.
    # graceful_timeout: on shutdown, in-flight messages get this long to finish (then commit).
    return KafkaBroker(
        settings.kafka_bootstrap_servers,
        client_id=client_id,
        graceful_timeout=graceful_timeout,
        acks="all",
        enable_idempotence=True,
        request_timeout_ms=15_000,
        security=kafka_security(settings),
    )


def event_type(event_class: type[Event]) -> str:
    """The versioned CloudEvents type: a breaking change of the payload would make `.v2`."""
    return f"{TYPE_PREFIX}{event_class.__name__}.v{SCHEMA_VERSION}"


def schema_path(ce_type: str) -> str:
    """Where the gateway serves the JSON Schema of the events of type `ce_type`."""
    return f"/schemas/events/{ce_type.removeprefix(TYPE_PREFIX)}.json"


def fact_id(event: Event) -> str:
    """The same id for the same fact: each event type happens once per run of a generation, so a
    redelivery, a retried step or a second relay of it carries the id a subscriber de-duplicates on.

    An operator's retry (`dancer-admin retry`) is a new run: its request and its outcome carry the run's
    `attempt` (GenerationRequested and the public events), which is part of their id from the first
    retry on; the first run's ids are those of events without an attempt."""
    name = f"{event_type(type(event))}/{event.generation_id}"
    attempt = int(getattr(event, "attempt", 0))
    return str(uuid.uuid5(FACT_NAMESPACE, f"{name}/{attempt}" if attempt else name))


def cloudevent_headers(event: Event, source: str, schema_base: str = "") -> dict[str, str]:
    """CloudEvents Kafka binding, binary mode: attributes as `ce_` headers, the event as JSON body."""
    ce_type = event_type(type(event))
    headers = {
        "ce_specversion": SPEC_VERSION,
        "ce_id": fact_id(event),
        "ce_type": ce_type,
        "ce_source": f"/dancer/{source}",
        "ce_time": event.occurred_at.astimezone(UTC).isoformat(),
        "ce_subject": str(event.generation_id),
        "content-type": "application/json",
    }
    if schema_base:
        headers["ce_dataschema"] = schema_base.rstrip("/") + schema_path(ce_type)
    return headers


async def publish(broker: KafkaBroker, event: Event, source: str, schema_base: str = "") -> None:
    """Publish `event` on its topic, keyed by generation id, and wait for the broker's ack."""
    await broker.publish(
        event.model_dump(mode="json"),
        topic=event.topic,
        key=str(event.generation_id).encode(),
        headers=cloudevent_headers(event, source, schema_base),
    )


def new_topics(
    names: Iterable[str], partitions: int, replication_factor: int = 1, min_insync_replicas: int = 1
) -> list[NewTopic]:
    """The topics to create: `partitions` each, `replication_factor` copies of each, of which
    `min_insync_replicas` must have a record before an `acks=all` producer's send succeeds; and the
    public ones with their own configs (`topics.config`)."""
    if min_insync_replicas > replication_factor:
        raise ValueError(
            f"KAFKA_MIN_INSYNC_REPLICAS ({min_insync_replicas}) is more than "
            f"KAFKA_REPLICATION_FACTOR ({replication_factor}): no write could ever succeed"
        )
    insync = {"min.insync.replicas": str(min_insync_replicas)}
    return [
        NewTopic(t, partitions, replication_factor, topic_configs=insync | topics.config(t)) for t in names
    ]


async def ensure_topics(settings: Settings) -> list[str]:
    """Create every topic the product uses that is missing (idempotent); returns the names created.

    Topics are never auto-created. An existing topic keeps its partitions, replicas and configs; a
    topic another process created meanwhile counts as present. Any other refusal (e.g. more replicas
    than brokers) raises."""
    admin = AIOKafkaAdminClient(
        bootstrap_servers=settings.kafka_bootstrap_servers,
        client_id="dancer-topics",
        **kafka_options(settings),
    )
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        missing = new_topics(
            [t for t in topics.ALL if t not in existing],
            settings.topic_partitions,
            settings.kafka_replication_factor,
            settings.kafka_min_insync_replicas,
        )
        if not missing:
            return []
        response = await admin.create_topics(missing)
        created = []
        for name, code, *message in response.topic_errors:
            if code == 0:
                created.append(name)
            elif code != TopicAlreadyExistsError.errno:
                raise for_code(code)(f"creating topic {name}: {message[0] if message else ''}")
        if created:
            log.info("created topics %s", ", ".join(sorted(created)))
        return sorted(created)
    finally:
        await admin.close()
