"""The media store on S3-compatible object storage (AWS, MinIO, Ceph, Alibaba OSS, moto) via aiobotocore.

Path-style addressing (`{endpoint}/{bucket}/{key}`): a store on a plain host:port needs no wildcard DNS.
The client opens on first use and creates the bucket if it is missing. A file goes up in parts of
`part_size` bytes read from disk one at a time, never whole in memory. Connection errors, timeouts and
5xx are `MediaUnavailable`; a missing object is `MediaNotFound`.
"""

from __future__ import annotations

import asyncio
import logging
import os
from contextlib import AsyncExitStack, suppress
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

from aiobotocore.config import AioConfig
from aiobotocore.session import get_session
from botocore.exceptions import ClientError

from common.media.s3_errors import s3_errors
from common.media.store import MediaNotFound, validate_key

if TYPE_CHECKING:
    from types_aiobotocore_s3 import S3Client
    from types_aiobotocore_s3.type_defs import CompletedPartTypeDef

log = logging.getLogger("common.media.s3")
MIN_PART_BYTES = 5 * 1024 * 1024  # S3's minimum for every part but the last


class S3MediaStore:
    """`MediaStore` on one bucket of an S3-compatible service. Empty credentials: the default chain."""

    def __init__(
        self,
        *,
        bucket: str,
        endpoint_url: str | None = None,
        region: str = "us-east-1",
        access_key_id: str | None = None,
        secret_access_key: str | None = None,
        presign_seconds: int = 300,
        part_size: int = 8 * 1024 * 1024,
        timeout_seconds: float = 60.0,
        max_attempts: int = 3,
    ) -> None:
        if part_size < MIN_PART_BYTES:
            raise ValueError(f"part_size must be at least {MIN_PART_BYTES} bytes")
        self.bucket, self.presign_seconds, self.part_size = bucket, presign_seconds, part_size
        config = AioConfig(
            signature_version="s3v4",
            s3={"addressing_style": "path"},
            retries={"max_attempts": max_attempts, "mode": "standard"},
            connect_timeout=min(timeout_seconds, 5.0),
            read_timeout=timeout_seconds,
            # Checksums only where S3 requires them: not every S3-compatible service takes more.
            request_checksum_calculation="when_required",
            response_checksum_validation="when_required",
        )
        self._client_args: dict[str, Any] = {
            "region_name": region,
            "endpoint_url": endpoint_url or None,  # None: AWS itself
            "aws_access_key_id": access_key_id or None,
            "aws_secret_access_key": secret_access_key or None,
            "config": config,
        }
        self._exits = AsyncExitStack()
        self._client: S3Client | None = None
        self._bucket_ready = False
        self._lock = asyncio.Lock()

    async def _s3(self) -> S3Client:
        """The client, opened on first use, once the bucket is known to exist."""
        if self._client is not None and self._bucket_ready:
            return self._client
        async with self._lock:
            if self._client is None:
                context = get_session().create_client("s3", **self._client_args)
                self._client = await self._exits.enter_async_context(context)
            if not self._bucket_ready:
                await self._ensure_bucket(self._client)
                self._bucket_ready = True
            return self._client

    async def ensure_bucket(self) -> None:
        """Create the bucket unless it exists (done on first use anyway)."""
        await self._s3()

    async def _ensure_bucket(self, s3: S3Client) -> None:
        with s3_errors():
            try:
                await s3.head_bucket(Bucket=self.bucket)
                return
            except ClientError as exc:
                status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
                if status == 403:  # it exists, but these credentials may not look at it: go on
                    log.warning("no permission to check bucket %s; assuming it exists", self.bucket)
                    return
                if status != 404:
                    raise
            log.info("creating bucket %s", self.bucket)
            region = self._client_args["region_name"]
            try:
                if region == "us-east-1":  # the one region that takes no location constraint
                    await s3.create_bucket(Bucket=self.bucket)
                else:
                    where: Any = {"LocationConstraint": region}
                    await s3.create_bucket(Bucket=self.bucket, CreateBucketConfiguration=where)
            except ClientError as exc:
                if exc.response.get("Error", {}).get("Code") != "BucketAlreadyOwnedByYou":
                    raise

    async def put_file(self, key: str, path: Path, content_type: str) -> None:
        validate_key(key)
        stream = await asyncio.to_thread(path.open, "rb")  # a missing source is the caller's error
        try:
            size = (await asyncio.to_thread(os.fstat, stream.fileno())).st_size
            if size <= self.part_size:  # one part at most: a single PUT
                await self.put_bytes(key, await asyncio.to_thread(stream.read), content_type)
            else:
                await self._put_parts(key, stream, content_type)
        finally:
            await asyncio.to_thread(stream.close)

    async def _put_parts(self, key: str, stream: BinaryIO, content_type: str) -> None:
        """A multipart upload, one part read from `stream` at a time; aborted if it fails."""
        s3 = await self._s3()
        with s3_errors():
            upload = await s3.create_multipart_upload(Bucket=self.bucket, Key=key, ContentType=content_type)
        upload_id = upload["UploadId"]
        parts: list[CompletedPartTypeDef] = []
        try:
            while chunk := await asyncio.to_thread(stream.read, self.part_size):
                number = len(parts) + 1
                with s3_errors():
                    answer = await s3.upload_part(
                        Bucket=self.bucket, Key=key, UploadId=upload_id, PartNumber=number, Body=chunk
                    )
                parts.append({"ETag": answer["ETag"], "PartNumber": number})
            with s3_errors():
                await s3.complete_multipart_upload(
                    Bucket=self.bucket, Key=key, UploadId=upload_id, MultipartUpload={"Parts": parts}
                )
        except BaseException:
            with suppress(Exception):  # else the parts stay (and are billed) until a lifecycle rule
                await s3.abort_multipart_upload(Bucket=self.bucket, Key=key, UploadId=upload_id)
            raise

    async def put_bytes(self, key: str, data: bytes, content_type: str) -> None:
        validate_key(key)
        s3 = await self._s3()
        with s3_errors():
            await s3.put_object(Bucket=self.bucket, Key=key, Body=data, ContentType=content_type)

    async def get_bytes(self, key: str) -> bytes:
        validate_key(key)
        s3 = await self._s3()
        with s3_errors(key):
            answer = await s3.get_object(Bucket=self.bucket, Key=key)
            async with answer["Body"] as body:
                return await body.read()

    async def delete(self, key: str) -> None:
        validate_key(key)
        s3 = await self._s3()
        with suppress(MediaNotFound), s3_errors(key):
            await s3.delete_object(Bucket=self.bucket, Key=key)

    async def exists(self, key: str) -> bool:
        validate_key(key)
        s3 = await self._s3()
        try:
            with s3_errors(key):
                await s3.head_object(Bucket=self.bucket, Key=key)
        except MediaNotFound:
            return False
        return True

    async def locate(self, key: str) -> str | Path:
        if not await self.exists(key):
            raise MediaNotFound(key)
        s3 = await self._s3()
        params = {"Bucket": self.bucket, "Key": key}
        return await s3.generate_presigned_url("get_object", Params=params, ExpiresIn=self.presign_seconds)

    async def close(self) -> None:
        self._client, self._bucket_ready = None, False
        await self._exits.aclose()
