"""S3's failures as the media store port's: what to retry later, what is missing, what is a bug."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import aiohttp
from botocore.exceptions import ClientError, HTTPClientError
from botocore.exceptions import ConnectionError as BotoConnectionError

from common.media.store import MediaNotFound, MediaUnavailable

NOT_FOUND_CODES = frozenset({"404", "NoSuchKey", "NotFound"})
RETRY_LATER_CODES = frozenset({"SlowDown", "ServiceUnavailable", "InternalError", "RequestTimeout"})


@contextmanager
def s3_errors(key: str | None = None) -> Iterator[None]:
    """S3's failures as the port's: retry-later ones as `MediaUnavailable`, a missing `key` (when
    given) as `MediaNotFound`; anything else (bad credentials, no permission) is raised as is."""
    try:
        yield
    except ClientError as exc:
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
        code = str(exc.response.get("Error", {}).get("Code", ""))
        if key is not None and (status == 404 or code in NOT_FOUND_CODES) and code != "NoSuchBucket":
            raise MediaNotFound(key) from None
        if status >= 500 or code in RETRY_LATER_CODES:
            raise MediaUnavailable(f"object storage answered {status} {code}") from exc
        raise
    except (BotoConnectionError, HTTPClientError, aiohttp.ClientError, OSError) as exc:
        raise MediaUnavailable(f"object storage unreachable: {exc}") from exc
