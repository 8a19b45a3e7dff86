"""Every Kafka client takes TLS and SASL from `kafka_security`: each protocol and mechanism maps to the
right FastStream security object and aiokafka keyword arguments, and the password shows nowhere."""

from __future__ import annotations

import logging
import ssl
from typing import Any

import certifi
import pytest
from common.messaging import kafka_options, kafka_security, make_broker
from common.settings import Settings
from faststream.security import BaseSecurity, SASLPlaintext, SASLScram256, SASLScram512

PASSWORD = "s3cr3t-kafka-pa55word"


def settings(**values: Any) -> Settings:
    return Settings(kafka_sasl_username="dancer", kafka_sasl_password=PASSWORD, **values)


def test_plaintext_means_no_security_at_all() -> None:
    plain = settings()
    assert kafka_security(plain) is None
    assert kafka_options(plain) == {}


def test_tls_verifies_the_brokers_with_the_systems_cas_by_default() -> None:
    security = kafka_security(settings(kafka_security_protocol="SSL"))
    assert type(security) is BaseSecurity and security.use_ssl
    context = security.ssl_context
    assert isinstance(context, ssl.SSLContext)
    assert context.verify_mode is ssl.CERT_REQUIRED and context.check_hostname
    options = kafka_options(settings(kafka_security_protocol="SSL"))
    assert options["security_protocol"] == "SSL" and isinstance(options["ssl_context"], ssl.SSLContext)
    assert "sasl_mechanism" not in options


def test_tls_trusts_the_ca_file_it_is_given() -> None:
    context = kafka_options(settings(kafka_security_protocol="SSL", kafka_ssl_ca_file=certifi.where()))[
        "ssl_context"
    ]
    assert context.get_ca_certs()  # the file's CAs are loaded (the system's are not, until asked)


def test_a_missing_ca_file_fails_at_once() -> None:
    with pytest.raises(FileNotFoundError):
        kafka_security(settings(kafka_security_protocol="SSL", kafka_ssl_ca_file="/no/such/ca.pem"))


@pytest.mark.parametrize(
    ("protocol", "mechanism", "kind"),
    [
        ("SASL_PLAINTEXT", "PLAIN", SASLPlaintext),
        ("SASL_PLAINTEXT", "SCRAM-SHA-256", SASLScram256),
        ("SASL_SSL", "PLAIN", SASLPlaintext),
        ("SASL_SSL", "SCRAM-SHA-256", SASLScram256),
        ("SASL_SSL", "SCRAM-SHA-512", SASLScram512),
    ],
)
def test_sasl_logs_in_with_the_mechanism_over_tls_or_not(protocol: str, mechanism: str, kind: type) -> None:
    config = settings(kafka_security_protocol=protocol, kafka_sasl_mechanism=mechanism)
    security = kafka_security(config)
    assert type(security) is kind
    assert security.use_ssl is (protocol == "SASL_SSL")
    options = kafka_options(config)
    assert options["security_protocol"] == protocol
    assert options["sasl_mechanism"] == mechanism
    assert options["sasl_plain_username"] == "dancer"
    assert options["sasl_plain_password"] == PASSWORD  # what the client is given...
    assert isinstance(options["ssl_context"], ssl.SSLContext) is (protocol == "SASL_SSL")
    assert PASSWORD not in repr(options) and PASSWORD not in str(options)  # ...and never shows
    assert PASSWORD not in repr(security) and PASSWORD not in repr(config)


def test_the_broker_is_given_the_same_security() -> None:
    config = settings(kafka_security_protocol="SASL_SSL", kafka_sasl_mechanism="SCRAM-SHA-512")
    broker = make_broker(config, client_id="test")
    connection = broker._connection_kwargs
    assert connection["security_protocol"] == "SASL_SSL"
    assert connection["sasl_mechanism"] == "SCRAM-SHA-512"
    assert connection["sasl_plain_username"] == "dancer"
    assert PASSWORD not in repr(broker)


def test_sasl_without_a_user_name_is_refused_clearly() -> None:
    with pytest.raises(ValueError, match="KAFKA_SASL_USERNAME"):
        kafka_security(Settings(kafka_security_protocol="SASL_SSL"))


def test_the_password_is_not_logged_when_the_options_are(caplog: pytest.LogCaptureFixture) -> None:
    options = kafka_options(settings(kafka_security_protocol="SASL_PLAINTEXT"))
    with caplog.at_level(logging.INFO):
        logging.getLogger("test").info("kafka options: %s / %r", options, options)
    assert "sasl_plain_username" in caplog.text and PASSWORD not in caplog.text


def test_topics_ask_no_more_in_sync_replicas_than_they_have() -> None:
    from common.messaging import new_topics

    created = new_topics(["a"], 6, replication_factor=3, min_insync_replicas=2)
    assert created[0].replication_factor == 3
    assert created[0].topic_configs == {"min.insync.replicas": "2"}
    with pytest.raises(ValueError, match="KAFKA_MIN_INSYNC_REPLICAS"):
        new_topics(["a"], 6, replication_factor=1, min_insync_replicas=2)
