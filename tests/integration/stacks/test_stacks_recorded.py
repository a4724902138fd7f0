"""Buckets in the local S3, and the resources a stack records without creating (their Ref and
Fn::GetAtt shaped like AWS's)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from eltflow.app import App, build_app
from eltflow.config import load_settings
from eltflow.stacks.errors import DeployFailed
from eltflow.stacks.template import load_template
from eltflow.stacks.wiring import stacks_for

TEMPLATE = """
Resources:
  Bucket:
    Type: AWS::S3::Bucket
  Queue:
    Type: AWS::SQS::Queue
    Properties: {QueueName: jobs}
  Logs:
    Type: AWS::Logs::LogGroup
    Properties: {LogGroupName: /eltflow/machine}
  Role:
    Type: AWS::IAM::Role
    Properties: {RoleName: machine-role, AssumeRolePolicyDocument: {}}
  Version:
    Type: AWS::Lambda::Version
    Properties: {FunctionName: loader}
Outputs:
  Bucket: {Value: !Ref Bucket}
  BucketArn: {Value: !GetAtt Bucket.Arn}
  QueueUrl: {Value: !Ref Queue}
  QueueArn: {Value: !GetAtt Queue.Arn}
  LogsArn: {Value: !GetAtt Logs.Arn}
  RoleArn: {Value: !GetAtt Role.Arn}
  RoleId: {Value: !GetAtt Role.RoleId}
  Version: {Value: !GetAtt Version.Version}
  VersionRef: {Value: !Ref Version}
"""


@pytest.fixture
def app(tmp_path: Path) -> Iterator[App]:
    app = build_app(load_settings(tmp_path, environ={}))
    try:
        yield app
    finally:
        app.close()


def test_bucket_folder_and_recorded_resources(app: App, tmp_path: Path) -> None:
    stacks = stacks_for(app)
    result = stacks.deploy("rec", load_template(TEMPLATE))
    assert result.warnings == (
        "Queue (AWS::SQS::Queue): AWS::SQS::Queue is not created locally: recorded only",
    )
    out = {o.key: o.value for o in result.stack.outputs}
    bucket = out["Bucket"]
    assert bucket.startswith("rec-bucket-") and bucket == bucket.lower()
    assert (tmp_path / ".eltflow" / "s3" / bucket).is_dir()
    assert out["BucketArn"] == f"arn:aws:s3:::{bucket}"
    assert out["QueueUrl"] == "https://sqs.us-east-1.amazonaws.com/123456789012/jobs"
    assert out["QueueArn"] == "arn:aws:sqs:us-east-1:123456789012:jobs"
    assert out["LogsArn"] == "arn:aws:logs:us-east-1:123456789012:log-group:/eltflow/machine:*"
    assert out["RoleArn"] == "arn:aws:iam::123456789012:role/machine-role"
    assert out["RoleId"].startswith("AROA")
    assert out["Version"] == "1"
    assert out["VersionRef"] == "arn:aws:lambda:us-east-1:123456789012:function:loader:1"

    # A bucket with objects in it cannot be deleted, as in S3: the stack shows DELETE_FAILED.
    (tmp_path / ".eltflow" / "s3" / bucket / "data.csv").write_text("x\n", encoding="utf-8")
    with pytest.raises(DeployFailed, match="The bucket you tried to delete is not empty"):
        stacks.delete("rec")
    stack = stacks.store.get("rec")
    assert stack is not None and stack.status == "DELETE_FAILED"
    (tmp_path / ".eltflow" / "s3" / bucket / "data.csv").unlink()
    assert stacks.delete("rec")
    assert not (tmp_path / ".eltflow" / "s3" / bucket).exists()
