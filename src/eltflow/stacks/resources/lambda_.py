"""``AWS::Lambda::Function`` recorded in the local Lambda service's function store, so state
machines (``lambda:invoke``) and other processes find it.

Code.ZipFile (inline source) is written to ``.eltflow/functions/<name>/<hash>/index.py`` — the
file name AWS gives inline Python code, so the Handler is ``index.<function>`` — with
``cfnresponse`` beside it. Code.S3Bucket/S3Key is a zip in the local S3
(``.eltflow/s3/<bucket>/<key>``); a ``cdk synth`` function's code is the asset its Metadata
names next to the template. ImageUri is refused. Runtime must be a ``python3.x``. Environment
Variables, Timeout (default 3 s, as AWS) and MemorySize (default 128) apply; Role, layers, VPC
and the rest are recorded only. ``Ref`` is the function name; ``Fn::GetAtt``: Arn.
"""

from __future__ import annotations

import hashlib
import re
import shutil
import zipfile
from pathlib import Path

from eltflow.errors import AwsApiError
from eltflow.lambdas.config import RESERVED_VARIABLES, FunctionSpec
from eltflow.lambdas.runner import PROVIDED
from eltflow.stacks.resources.base import Outcome, Request, Services, physical_name, text
from eltflow.types import JSONObject

_NAME = re.compile(r"[A-Za-z0-9_-]{1,64}")
_HANDLER = re.compile(r"[A-Za-z_]\w*(\.[A-Za-z_]\w*)*\.[A-Za-z_]\w*")


def _spec(services: Services, request: Request, name: str) -> FunctionSpec:
    props = request.properties
    if not _NAME.fullmatch(name):
        # AWS's constraint, and what keeps the code folder inside .eltflow/functions.
        raise AwsApiError(
            "ValidationError",
            f"1 validation error detected: Value '{name}' at 'functionName' failed to satisfy "
            "constraint: Member must satisfy regular expression pattern: [a-zA-Z0-9-_]+ "
            "(1-64 characters)",
        )
    if services.lambdas is None or services.data_dir is None:
        raise AwsApiError("ValidationError", "no local Lambda service in this project")
    runtime = text(props, "Runtime")
    if not runtime.startswith("python3"):
        raise AwsApiError(
            "ValidationError",
            f"Runtime {runtime or '(none)'} is not supported locally: python3.x only",
        )
    code = props.get("Code")
    if not isinstance(code, dict):
        raise AwsApiError("ValidationError", "Properties.Code is required")
    if isinstance(code.get("ZipFile"), str):
        source = str(code["ZipFile"])
        digest = hashlib.sha256(source.encode()).hexdigest()[:16]
        folder = Path(services.data_dir, "functions", name, digest)
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "index.py").write_text(source, encoding="utf-8")
        # CloudFormation gives inline Python code the cfnresponse module (custom resources).
        module = PROVIDED / "cfnresponse.py"
        (folder / "cfnresponse.py").write_text(module.read_text(encoding="utf-8"), encoding="utf-8")
    elif "S3Bucket" in code and not isinstance(request.metadata.get("aws:asset:path"), str):
        archive = services.s3_object(code.get("S3Bucket"), code.get("S3Key"), "Properties.Code")
        folder = _unpack(services, name, archive)
    else:
        folder = _asset(services, request, name)
    environment = props.get("Environment")
    variables = environment.get("Variables") if isinstance(environment, dict) else None
    if variables is not None and not isinstance(variables, dict):
        raise AwsApiError("ValidationError", "Properties.Environment.Variables must be an object")
    reserved = sorted(k for k in variables or {} if k in RESERVED_VARIABLES)
    if reserved:
        raise AwsApiError(
            "InvalidParameterValueException",
            "Lambda was unable to configure your environment variables because the environment "
            "variables you have provided contains reserved keys that are currently not "
            "supported for modification. Reserved keys used in this request: "
            + ", ".join(reserved),
        )
    timeout = props.get("Timeout", 3)
    memory = props.get("MemorySize", 128)
    try:
        timeout_seconds, memory_mb = float(str(timeout)), int(str(memory))
    except ValueError:
        raise AwsApiError("ValidationError", "Timeout and MemorySize must be numbers") from None
    handler = text(props, "Handler")
    if not _HANDLER.fullmatch(handler):
        raise AwsApiError(
            "ValidationError",
            f"Handler {handler!r} must look like module.function (index.handler for inline code)",
        )
    return FunctionSpec(
        name=name,
        handler=handler,
        runtime=runtime,
        code_dir=str(folder),
        timeout_seconds=timeout_seconds,
        memory_mb=memory_mb,
        environment={str(k): str(v) for k, v in (variables or {}).items()},
    )


def _asset(services: Services, request: Request, name: str) -> Path:
    """The code of a ``cdk synth`` function: S3Bucket/S3Key in the template, and the asset
    folder (or zip) named by the resource's ``aws:asset:path`` Metadata next to the template
    (``cdk.out/asset.<hash>``). Copied, so a later ``cdk synth`` does not change a deployed
    function."""
    asset = request.metadata.get("aws:asset:path")
    if not isinstance(asset, str) or request.metadata.get("aws:asset:property") != "Code":
        raise AwsApiError(
            "ValidationError",
            "Properties.Code: inline code (Code.ZipFile), a zip in the local S3 "
            "(S3Bucket/S3Key under .eltflow/s3) or a cdk synth asset (Metadata "
            "aws:asset:path next to the template) is needed locally; ImageUri is not supported",
        )
    source = Path(request.template_dir or ".", asset)
    if not source.exists():
        raise AwsApiError(
            "ValidationError", f"Properties.Code: the CDK asset {source} does not exist"
        )
    return _unpack(services, name, source)


def _unpack(services: Services, name: str, source: Path) -> Path:
    """``source`` (a folder, or a zip) copied to the function's code folder for its content."""
    digest = hashlib.sha256()
    files = sorted(p for p in source.rglob("*") if p.is_file()) if source.is_dir() else [source]
    for f in files:
        digest.update(str(f.relative_to(source) if source.is_dir() else f.name).encode())
        digest.update(f.read_bytes())
    assert services.data_dir is not None
    folder = Path(services.data_dir, "functions", name, digest.hexdigest()[:16])
    if not folder.exists():
        staging = folder.with_name(folder.name + ".tmp")
        shutil.rmtree(staging, ignore_errors=True)
        if source.is_dir():
            shutil.copytree(source, staging)
        else:
            with zipfile.ZipFile(source) as archive:
                archive.extractall(staging)
        staging.rename(folder)
    return folder


class FunctionProvider:
    replace_on = frozenset({"FunctionName"})
    name_property = "FunctionName"

    def _outcome(self, services: Services, name: str) -> Outcome:
        arn = f"arn:aws:lambda:{services.region}:{services.account}:function:{name}"
        attributes: JSONObject = {"Arn": arn}
        return Outcome(physical_id=name, attributes=attributes)

    def create(self, services: Services, request: Request) -> Outcome:
        name = text(request.properties, "FunctionName") or physical_name(request, 64)
        spec = _spec(services, request, name)
        assert services.lambdas is not None
        services.lambdas.put(spec, services.now_iso())
        return self._outcome(services, name)

    def update(self, services: Services, request: Request) -> Outcome:
        spec = _spec(services, request, request.physical_id)
        assert services.lambdas is not None
        services.lambdas.put(spec, services.now_iso(), replace=True)
        return self._outcome(services, request.physical_id)

    def delete(self, services: Services, request: Request) -> None:
        if services.lambdas is not None:
            services.lambdas.delete(request.physical_id)
