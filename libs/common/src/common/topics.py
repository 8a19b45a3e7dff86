"""Topic names, one per event type: `ImageUploaded` travels on `image.uploaded`."""

GENERATION_REQUESTED = "generation.requested"
IMAGE_UPLOADED = "image.uploaded"
IMAGE_ACCEPTED = "image.accepted"
SYNTHESIS_SUBMITTED = "synthesis.submitted"
VIDEO_RENDERED = "video.rendered"
GENERATION_COMPLETED = "generation.completed"
GENERATION_FAILED = "generation.failed"
GENERATION_CANCELED = "generation.canceled"
DEAD_LETTER = "dead-letter"

ALL = (
    GENERATION_REQUESTED,
    IMAGE_UPLOADED,
    IMAGE_ACCEPTED,
    SYNTHESIS_SUBMITTED,
    VIDEO_RENDERED,
    GENERATION_COMPLETED,
    GENERATION_FAILED,
    GENERATION_CANCELED,
    DEAD_LETTER,
)

# The public topics other teams subscribe to (README: "Subscribing to events"); the rest are internal.
PUBLIC = (GENERATION_COMPLETED, GENERATION_FAILED, GENERATION_CANCELED)

PUBLIC_RETENTION_MS = 7 * 24 * 3600 * 1000
# Explicit, not the broker's defaults: a subscriber may be down for up to 7 days and miss nothing.
PUBLIC_TOPIC_CONFIG: dict[str, str] = {
    "cleanup.policy": "delete",
    "retention.ms": str(PUBLIC_RETENTION_MS),
}


def config(topic: str) -> dict[str, str]:
    """The Kafka configs `topic` is created with (partitions: `TOPIC_PARTITIONS`); none: the broker's."""
    return dict(PUBLIC_TOPIC_CONFIG) if topic in PUBLIC else {}
