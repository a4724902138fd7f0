"""The ``cfnresponse`` module CloudFormation gives inline (``Code.ZipFile``) Python functions:
importable by every local handler (its folder is on the handlers' path, after their own code,
so a function shipping its own copy keeps it) and copied next to each stack function's
``index.py``. ``send`` PUTs the custom resource's answer
to the event's ``ResponseURL`` (served locally while a stack deploys). Same names, arguments and
JSON body as AWS's module; standard library only, since it runs inside the function."""

from __future__ import annotations

import json
import urllib.request
from typing import Any

SUCCESS = "SUCCESS"
FAILED = "FAILED"


def send(
    event: dict[str, Any],
    context: Any,
    responseStatus: str,  # AWS's argument names (callers pass them by keyword)
    responseData: dict[str, Any] | None,
    physicalResourceId: str | None = None,
    noEcho: bool = False,
    reason: str | None = None,
) -> None:
    stream = getattr(context, "log_stream_name", "")
    body = json.dumps(
        {
            "Status": responseStatus,
            "Reason": reason or f"See the details in CloudWatch Log Stream: {stream}",
            "PhysicalResourceId": physicalResourceId or stream,
            "StackId": event["StackId"],
            "RequestId": event["RequestId"],
            "LogicalResourceId": event["LogicalResourceId"],
            "NoEcho": noEcho,
            "Data": responseData,
        }
    ).encode("utf-8")
    request = urllib.request.Request(
        event["ResponseURL"],
        data=body,
        method="PUT",
        headers={"content-type": "", "content-length": str(len(body))},
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            print("Status code:", response.status)
    except Exception as e:  # AWS's module prints and swallows the failure too
        print("send(..) failed executing http.request(..):", e)
