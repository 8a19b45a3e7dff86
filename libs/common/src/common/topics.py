"""Topic names, one per event type: `ImageUploaded` travels on `image.uploaded`."""

GENERATION_REQUESTED = "generation.requested"
IMAGE_UPLOADED = "image.uploaded"
IMAGE_ACCEPTED = "image.accepted"
SYNTHESIS_SUBMITTED = "synthesis.submitted"
GENERATION_COMPLETED = "generation.completed"
GENERATION_FAILED = "generation.failed"
GENERATION_CANCELED = "generation.canceled"
DEAD_LETTER = "dead-letter"

ALL = (
    GENERATION_REQUESTED,
    IMAGE_UPLOADED,
    IMAGE_ACCEPTED,
    SYNTHESIS_SUBMITTED,
    GENERATION_COMPLETED,
    GENERATION_FAILED,
    GENERATION_CANCELED,
    DEAD_LETTER,
)
