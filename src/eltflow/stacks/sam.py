"""The SAM transform (``Transform: AWS::Serverless-2016-10-31``): a template's
``AWS::Serverless::Function``/``StateMachine``/``SimpleTable``/... expanded into plain
CloudFormation by AWS's own translator (aws-sam-translator, the library CloudFormation's SAM
transform runs), with ``Globals``, roles from ``Policies`` (recorded, not enforced) and
``Events`` (a ``Schedule`` becomes an ``AWS::Events::Rule``).

What ``sam build``/``sam package`` would do first is done here for local paths, relative to the
template's folder: a function's ``CodeUri`` folder (or zip) becomes its code, as a ``cdk synth``
asset is (Metadata ``aws:asset:path``); a state machine's ``DefinitionUri`` file (JSON or YAML)
becomes its ``Definition``. The stack keeps the template as written (GetTemplate's
``Original`` stage).
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from eltflow.stacks.errors import TemplateError
from eltflow.stacks.template import Template, check_shape, plain
from eltflow.types import JSONObject

SAM = "AWS::Serverless-2016-10-31"
_PLACEHOLDER_BUCKET = "eltflow-sam-local"  # never read: the asset Metadata names the code


def transforms(template: Template) -> list[str]:
    raw = template.data.get("Transform")
    if raw is None:
        return []
    return [str(t) for t in (raw if isinstance(raw, list) else [raw])]


def expand(
    template: Template, *, region: str, account: str, parameters: Mapping[str, str]
) -> Template:
    """``template`` with the SAM transform applied (unchanged without one)."""
    if not transforms(template):
        return template
    data: dict[str, Any] = copy.deepcopy(template.data)
    _local_paths(data, Path(template.source_dir) if template.source_dir else None)
    import boto3  # the translator asks a session for the region only; no call is made
    from samtranslator.model.exceptions import InvalidDocumentException
    from samtranslator.parser.parser import Parser
    from samtranslator.translator.translator import Translator

    translator = Translator(None, Parser(), boto_session=boto3.session.Session(region_name=region))
    try:
        out = translator.translate(
            data,
            parameter_values={**parameters, "AWS::AccountId": account},
            passthrough_metadata=True,
            # Managed policy names stay names: IAM is recorded, not enforced.
            get_managed_policy_map=lambda: {},
        )
    except InvalidDocumentException as e:
        causes = " ".join(str(c.message) for c in e.causes) if e.causes else str(e)
        raise TemplateError(f"Transform {SAM} failed with: {e.message} {causes}".strip()) from None
    expanded = plain(out)
    assert isinstance(expanded, dict)
    check_shape(expanded)
    return Template(body=template.body, data=expanded, source_dir=template.source_dir)


def _local(base: Path | None, path: str, where: str) -> Path:
    if base is None and not Path(path).is_absolute():
        # A template sent as text (TemplateBody) has no folder to resolve the path in.
        raise TemplateError(
            f"{path} is a local path, which needs the template's folder: deploy the template "
            "file (eltflow stack deploy FILE), or `sam package` it first (S3 URIs)",
            where,
        )
    return (base or Path(".")) / path


def _local_paths(data: dict[str, Any], base: Path | None) -> None:
    globals_ = data.get("Globals")
    global_code = None
    if isinstance(globals_, dict) and isinstance(globals_.get("Function"), dict):
        global_code = globals_["Function"].pop("CodeUri", None)
    for logical, body in (data.get("Resources") or {}).items():
        if not isinstance(body, dict):
            continue
        props = body.setdefault("Properties", {})
        if not isinstance(props, dict):
            continue
        if body.get("Type") == "AWS::Serverless::Function":
            code = props.get("CodeUri", global_code if "InlineCode" not in props else None)
            if isinstance(code, str) and not code.startswith("s3://"):
                props["CodeUri"] = f"s3://{_PLACEHOLDER_BUCKET}/{logical}.zip"
                metadata = body.setdefault("Metadata", {})
                where = f"Resources.{logical}.Properties.CodeUri"
                metadata["aws:asset:path"] = str(_local(base, code, where).resolve())
                metadata["aws:asset:property"] = "Code"
            elif code is not None:
                props["CodeUri"] = code
        elif body.get("Type") == "AWS::Serverless::StateMachine":
            uri = props.get("DefinitionUri")
            if isinstance(uri, str) and not uri.startswith("s3://"):
                props.pop("DefinitionUri")
                where = f"Resources.{logical}.Properties.DefinitionUri"
                props["Definition"] = _definition(_local(base, uri, where), logical)


def _definition(path: Path, logical: str) -> JSONObject:
    where = f"Resources.{logical}.Properties.DefinitionUri"
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as e:
        raise TemplateError(f"cannot read the definition {path}: {e.strerror}", where) from None
    from cfnlint.decode import decode_str  # JSON or YAML, as the template itself is read

    decoded, problems = decode_str(text)
    if problems or decoded is None:
        detail = f": {problems[0].message}" if problems else ""
        raise TemplateError(f"the definition {path} is not JSON or YAML{detail}", where)
    loaded = plain(decoded)
    if not isinstance(loaded, dict):
        raise TemplateError(f"the definition {path} is not an object", where)
    return loaded
