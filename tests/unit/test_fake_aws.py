"""The benchmarks' recorded AWS calls (bench.fake_aws): what was sent can be sent again."""

import copy
import io

import boto3
from moto import mock_aws

from bench.fake_aws import recording


def test_a_streamed_body_is_recorded_as_its_bytes_and_the_call_still_sends_it() -> None:
    with mock_aws():
        s3 = boto3.client("s3", region_name="us-east-1", aws_access_key_id="testing", aws_secret_access_key="testing")
        s3.create_bucket(Bucket="bench-bucket")
        stream = io.BytesIO(b"the file")
        with recording() as calls:
            s3.put_object(Bucket="bench-bucket", Key="k", Body=stream)

        assert s3.get_object(Bucket="bench-bucket", Key="k")["Body"].read() == b"the file"
    [put] = calls
    assert put.params["Body"] == b"the file"
    assert copy.deepcopy(put).params == put.params  # a spent stream could not be copied or sent again
