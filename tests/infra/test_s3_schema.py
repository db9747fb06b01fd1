"""SeaweedFS serves S3 with the configured keys and holds the dataset's bucket."""

from __future__ import annotations

from urllib.parse import urlsplit

from adapters.s3 import make_s3_client


def test_the_dataset_bucket_exists(s3_stack):
    bucket = urlsplit(s3_stack.dataset_root).netloc
    make_s3_client(s3_stack.s3).head_bucket(Bucket=bucket)


def test_objects_written_can_be_read_back(s3_stack):
    s3 = make_s3_client(s3_stack.s3)
    bucket = urlsplit(s3_stack.dataset_root).netloc
    s3.put_object(Bucket=bucket, Key="tests/infra/hello.txt", Body=b"hello")
    try:
        body = s3.get_object(Bucket=bucket, Key="tests/infra/hello.txt")["Body"].read()
    finally:
        s3.delete_object(Bucket=bucket, Key="tests/infra/hello.txt")
    assert body == b"hello"
