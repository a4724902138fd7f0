"""A project as a CloudFormation template AWS accepts: the pure half of ``eltflow export
cloudformation`` (``collect.py`` reads the project through its services).

Each state machine keeps its definition JSON; the names in it become DefinitionSubstitutions —
``TableName`` → the exported table, ``FunctionName`` → the function's ARN, ``TopicArn`` → the
topic, ``ClusterIdentifier`` / ``WorkgroupName`` / ``Database`` / ``DbUser`` → template
parameters whose defaults are the local values — so deploying the template (here or on AWS)
gives back the same definition. Each machine gets a role with least privilege derived from its
Task states; schedules get a role that may start their targets; functions get a basic execution
role. A function that runs SQL through the Data API — the bundled SQL handler, or any function
a Task calls with a payload naming a ``ClusterIdentifier`` or ``WorkgroupName`` (the names the
Data API takes, such as the scaffold's own ``check-counts``) — gets a role of its own, allowed the
Data API on the clusters/workgroups its callers name (and S3 reads for the bundled handler's
``SqlFile``). A function whose handler module is one small file is inlined (``Code.ZipFile``);
any other is zipped next to the template and read from the ``ArtifactBucket`` parameter.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field

from eltflow.types import JSON, JSONObject

INLINE_LIMIT = 4096  # CloudFormation's limit for Code.ZipFile
_PARAMETER_FIELDS = {
    "ClusterIdentifier": ("RedshiftClusterIdentifier", "The Redshift cluster the SQL runs on"),
    "WorkgroupName": ("RedshiftWorkgroupName", "The Redshift Serverless workgroup"),
    "Database": ("DatabaseName", "The database the SQL runs in"),
    "DbUser": ("DatabaseUserName", "The database user the Data API connects as"),
}


@dataclass(frozen=True, kw_only=True)
class MachineInfo:
    name: str
    definition: str


@dataclass(frozen=True, kw_only=True)
class TableInfo:
    name: str
    partition_key: str
    partition_type: str = "S"
    sort_key: str | None = None
    sort_type: str | None = None


@dataclass(frozen=True, kw_only=True)
class TopicInfo:
    name: str
    arn: str
    subscriptions: tuple[tuple[str, str], ...] = ()  # (protocol, endpoint)


@dataclass(frozen=True, kw_only=True)
class FunctionInfo:
    name: str
    handler: str  # AWS form: "module.function" (relative to the code root)
    timeout_seconds: int = 3
    memory_mb: int = 128
    source: str | None = None  # one-file source, inlined when small enough
    files: tuple[tuple[str, str], ...] = ()  # (name in the zip, path) when not inlined
    environment: dict[str, str] = field(default_factory=dict)
    # Runs SQL through the Data API itself (the bundled redshift_sql handler): its role gets the
    # Data API, and the Data API names in its Task payloads become template parameters.
    data_api: bool = False


@dataclass(frozen=True, kw_only=True)
class ScheduleInfo:
    name: str
    expression: str
    timezone: str
    state_machine: str  # name
    input: str
    enabled: bool = True
    description: str = ""


@dataclass(frozen=True, kw_only=True)
class Snapshot:
    machines: tuple[MachineInfo, ...] = ()
    tables: tuple[TableInfo, ...] = ()
    topics: tuple[TopicInfo, ...] = ()
    functions: tuple[FunctionInfo, ...] = ()
    schedules: tuple[ScheduleInfo, ...] = ()
    description: str = "eltflow project exported by `eltflow export cloudformation`"


@dataclass(frozen=True, kw_only=True)
class Exported:
    template: JSONObject
    zipped: tuple[str, ...] = ()  # functions packaged as <name>.zip for the ArtifactBucket
    notes: tuple[str, ...] = ()


def logical_id(prefix: str, name: str, taken: set[str]) -> str:
    """``prefix`` + the name's letters and digits in CamelCase, unique in ``taken``."""
    words = re.split(r"[^A-Za-z0-9]+", name)
    base = prefix + "".join(w[:1].upper() + w[1:] for w in words if w)
    candidate, n = base[:240], 2
    while candidate in taken:
        candidate, n = f"{base[:236]}{n}", n + 1
    taken.add(candidate)
    return candidate


def _states(definition: JSONObject) -> Iterator[JSONObject]:
    """Every state, nested ones (Parallel branches, Map processors) included."""
    states = definition.get("States")
    if not isinstance(states, dict):
        return
    for state in states.values():
        if not isinstance(state, dict):
            continue
        yield state
        branches = state.get("Branches")
        for branch in branches if isinstance(branches, list) else []:
            if isinstance(branch, dict):
                yield from _states(branch)
        for key in ("ItemProcessor", "Iterator"):
            inner = state.get(key)
            if isinstance(inner, dict):
                yield from _states(inner)


@dataclass
class _Builder:
    snapshot: Snapshot
    taken: set[str] = field(default_factory=set)
    parameters: JSONObject = field(default_factory=dict)
    resources: JSONObject = field(default_factory=dict)
    outputs: JSONObject = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    zipped: list[str] = field(default_factory=list)
    tables: dict[str, str] = field(default_factory=dict)  # name -> logical id
    functions: dict[str, str] = field(default_factory=dict)
    topics: dict[str, str] = field(default_factory=dict)  # arn -> logical id
    machines: dict[str, str] = field(default_factory=dict)
    sql_targets: dict[str, set[str]] = field(default_factory=dict)  # SQL function -> targets

    def parameter(self, field_name: str, default: str) -> str:
        key, description = _PARAMETER_FIELDS[field_name]
        if key not in self.parameters:
            self.parameters[key] = {
                "Type": "String",
                "Default": default,
                "Description": description,
            }
        return key

    # -- resources -----------------------------------------------------------------------
    def add_tables(self) -> None:
        for t in self.snapshot.tables:
            lid = logical_id("Table", t.name, self.taken)
            self.tables[t.name] = lid
            keys: list[JSON] = [{"AttributeName": t.partition_key, "KeyType": "HASH"}]
            defs: list[JSON] = [
                {"AttributeName": t.partition_key, "AttributeType": t.partition_type}
            ]
            if t.sort_key:
                keys.append({"AttributeName": t.sort_key, "KeyType": "RANGE"})
                defs.append({"AttributeName": t.sort_key, "AttributeType": t.sort_type or "S"})
            self.resources[lid] = {
                "Type": "AWS::DynamoDB::Table",
                "DeletionPolicy": "Retain",
                "UpdateReplacePolicy": "Retain",
                "Properties": {
                    "TableName": t.name,
                    "BillingMode": "PAY_PER_REQUEST",
                    "KeySchema": keys,
                    "AttributeDefinitions": defs,
                },
            }

    def add_topics(self) -> None:
        for t in self.snapshot.topics:
            lid = logical_id("Topic", t.name, self.taken)
            self.topics[t.arn] = lid
            props: JSONObject = {"TopicName": t.name}
            subs: list[JSON] = []
            for protocol, endpoint in t.subscriptions:
                if protocol in ("email", "email-json", "http", "https"):
                    subs.append({"Protocol": protocol, "Endpoint": endpoint})
                else:
                    self.notes.append(
                        f"topic {t.name}: the local-only {protocol} subscription is not exported"
                    )
            if subs:
                props["Subscription"] = subs
            self.resources[lid] = {"Type": "AWS::SNS::Topic", "Properties": props}

    def data_api_callers(self) -> set[str]:
        """Functions a Task calls with a payload naming a Data API target: they run SQL there,
        so the payload's names become template parameters and their role may reach them."""
        out: set[str] = set()
        for m in self.snapshot.machines:
            for state in _states(json.loads(m.definition)):
                params = state.get("Parameters") or state.get("Arguments")
                if state.get("Type") != "Task" or not isinstance(params, dict):
                    continue
                fn, payload = params.get("FunctionName"), params.get("Payload")
                if not isinstance(fn, str) or not isinstance(payload, dict):
                    continue
                if "ClusterIdentifier" in payload or "WorkgroupName" in payload:
                    out.add(fn.rsplit(":", 1)[-1])
        return out

    def add_functions(self) -> None:
        if not self.snapshot.functions:
            return
        callers = self.data_api_callers()
        sql = {f.name for f in self.snapshot.functions if f.data_api or f.name in callers}
        role = logical_id("FunctionRole", "", self.taken)
        if all(f.name in sql for f in self.snapshot.functions):
            self.taken.discard(role)  # only SQL functions: each has a role of its own
        else:
            self.resources[role] = _lambda_role()
        for f in self.snapshot.functions:
            lid = logical_id("Function", f.name, self.taken)
            self.functions[f.name] = lid
            function_role = role
            if f.name in sql:
                function_role = logical_id("FunctionRole", f.name, self.taken)
                self.sql_targets[f.name] = set()
                self.resources[function_role] = _lambda_role()
            code: JSONObject
            handler = f.handler
            if f.source is not None and not f.data_api and len(f.source.encode()) <= INLINE_LIMIT:
                code = {"ZipFile": f.source}
                handler = "index." + f.handler.rsplit(".", 1)[-1]
            else:
                if "ArtifactBucket" not in self.parameters:
                    self.parameters["ArtifactBucket"] = {
                        "Type": "String",
                        "Description": "S3 bucket holding the functions' zip files "
                        "(upload the .zip files written next to this template)",
                    }
                code = {"S3Bucket": {"Ref": "ArtifactBucket"}, "S3Key": f"{f.name}.zip"}
                self.zipped.append(f.name)
            props: JSONObject = {
                "FunctionName": f.name,
                "Runtime": "python3.12",
                "Handler": handler,
                "Code": code,
                "Role": {"Fn::GetAtt": [function_role, "Arn"]},
                "Timeout": f.timeout_seconds,
                "MemorySize": f.memory_mb,
            }
            if f.environment:
                props["Environment"] = {"Variables": dict(f.environment)}
            self.resources[lid] = {"Type": "AWS::Lambda::Function", "Properties": props}

    def add_machines(self) -> None:
        for m in self.snapshot.machines:
            self.machines[m.name] = logical_id("StateMachine", m.name, self.taken)
        for m in self.snapshot.machines:
            lid = self.machines[m.name]
            definition = json.loads(m.definition)
            substitutions: JSONObject = {}
            statements: list[JSON] = []
            for state in _states(definition):
                if state.get("Type") != "Task" or not isinstance(state.get("Resource"), str):
                    continue
                params = state.get("Parameters") or state.get("Arguments")
                params = params if isinstance(params, dict) else {}
                self.substitute(params, substitutions)
                self.substitute_sql_payload(params, substitutions)
                statements += self.permissions(str(state["Resource"]), params)
            role = logical_id("StateMachineRole", m.name, self.taken)
            self.resources[role] = {
                "Type": "AWS::IAM::Role",
                "Properties": {
                    "AssumeRolePolicyDocument": _trust("states.amazonaws.com"),
                    "Policies": [
                        {
                            "PolicyName": "least-privilege",
                            "PolicyDocument": {
                                "Version": "2012-10-17",
                                "Statement": _merge(statements)
                                or [_allow(["states:ListStateMachines"], "*")],
                            },
                        }
                    ],
                },
            }
            props: JSONObject = {
                "StateMachineName": m.name,
                "StateMachineType": "STANDARD",
                "RoleArn": {"Fn::GetAtt": [role, "Arn"]},
                "DefinitionString": json.dumps(definition, indent=2),
            }
            if substitutions:
                props["DefinitionSubstitutions"] = substitutions
            self.resources[lid] = {"Type": "AWS::StepFunctions::StateMachine", "Properties": props}
            self.outputs[f"{lid}Arn"] = {
                "Description": f"state machine {m.name}",
                "Value": {"Ref": lid},
            }

    def substitute(self, params: JSONObject, substitutions: JSONObject) -> None:
        """Names in ``params`` → ``${Key}`` placeholders, in place."""
        for key, value in list(params.items()):
            if not isinstance(value, str):
                continue
            placeholder: str | None = None
            target: JSON = None
            if key in _PARAMETER_FIELDS:
                placeholder = self.parameter(key, value)
                target = {"Ref": placeholder}
            elif key == "TableName" and value in self.tables:
                placeholder = self.tables[value]
                target = {"Ref": placeholder}
            elif key == "FunctionName" and value.rsplit(":", 1)[-1] in self.functions:
                placeholder = self.functions[value.rsplit(":", 1)[-1]]
                # The same form as written: a name stays a name (Ref), an ARN an ARN.
                if value.startswith("arn:"):
                    target = {"Fn::GetAtt": [placeholder, "Arn"]}
                else:
                    target = {"Ref": placeholder}
            elif key == "TopicArn" and value in self.topics:
                placeholder = self.topics[value]
                target = {"Ref": placeholder}
            if placeholder is not None:
                params[key] = "${" + placeholder + "}"
                substitutions[placeholder] = target

    def substitute_sql_payload(self, params: JSONObject, substitutions: JSONObject) -> None:
        """The payload of a call to a SQL function speaks the Data API's names
        (ClusterIdentifier, Database...): they become template parameters too, and the
        function's role may reach the targets named."""
        fn, payload = params.get("FunctionName"), params.get("Payload")
        if not isinstance(fn, str) or not isinstance(payload, dict):
            return
        name = next((n for n, lid in self.functions.items() if fn == "${" + lid + "}"), None)
        if name is None or name not in self.sql_targets:
            return
        self.substitute(payload, substitutions)
        for key in ("ClusterIdentifier", "WorkgroupName"):
            if key in payload:
                self.sql_targets[name].add(key)

    def add_sql_function_policies(self) -> None:
        """Each SQL function's role: the Data API on the clusters/workgroups its callers name
        (the template parameter when they name one); the bundled handler may also read SQL
        objects from S3 (``SqlFile``), which another function's payload does not ask for."""
        for f in self.snapshot.functions:
            if f.name not in self.sql_targets:
                continue
            targets = self.sql_targets[f.name]
            if "REDSHIFT_CLUSTER_IDENTIFIER" in f.environment:
                targets.add("ClusterIdentifier")
            if "REDSHIFT_WORKGROUP_NAME" in f.environment:
                targets.add("WorkgroupName")
            cluster = (
                "${RedshiftClusterIdentifier}"
                if "RedshiftClusterIdentifier" in self.parameters
                else f.environment.get("REDSHIFT_CLUSTER_IDENTIFIER", "*")
            )
            statements: list[JSON] = [
                _allow(
                    [
                        "redshift-data:CancelStatement",
                        "redshift-data:DescribeStatement",
                        "redshift-data:GetStatementResult",
                    ],
                    "*",  # statement ids have no ARN: AWS scopes these to the caller
                ),
            ]
            if f.data_api:
                # SqlFile s3://bucket/key: which buckets is up to the pipelines' authors.
                statements.append(
                    _allow(["s3:GetObject"], {"Fn::Sub": "arn:${AWS::Partition}:s3:::*/*"})
                )
            if "ClusterIdentifier" in targets or not targets:
                prefix = "arn:${AWS::Partition}:redshift:${AWS::Region}:${AWS::AccountId}:"
                statements += [
                    _allow(
                        ["redshift-data:BatchExecuteStatement", "redshift-data:ExecuteStatement"],
                        {"Fn::Sub": f"{prefix}cluster:{cluster}"},
                    ),
                    _allow(
                        ["redshift:GetClusterCredentials", "redshift:GetClusterCredentialsWithIAM"],
                        [
                            {"Fn::Sub": f"{prefix}dbname:{cluster}/*"},
                            {"Fn::Sub": f"{prefix}dbuser:{cluster}/*"},
                        ],
                    ),
                ]
            if "WorkgroupName" in targets:
                statements.append(
                    _allow(
                        [
                            "redshift-data:BatchExecuteStatement",
                            "redshift-data:ExecuteStatement",
                            "redshift-serverless:GetCredentials",
                        ],
                        {
                            "Fn::Sub": "arn:${AWS::Partition}:redshift-serverless:"
                            "${AWS::Region}:${AWS::AccountId}:workgroup/*"
                        },
                    )
                )
            function = self.resources[self.functions[f.name]]
            assert isinstance(function, dict)
            props = function["Properties"]
            assert isinstance(props, dict)
            role = props["Role"]
            assert isinstance(role, dict)
            role_id = role["Fn::GetAtt"]
            assert isinstance(role_id, list)
            role_resource = self.resources[str(role_id[0])]
            assert isinstance(role_resource, dict)
            role_props = role_resource["Properties"]
            assert isinstance(role_props, dict)
            role_props["Policies"] = [
                {
                    "PolicyName": "run-sql" if f.data_api else "data-api",
                    "PolicyDocument": {"Version": "2012-10-17", "Statement": statements},
                }
            ]

    def permissions(self, resource: str, params: JSONObject) -> list[JSON]:
        service_action = resource.removeprefix("arn:aws:states:::")
        service_action = service_action.removeprefix("aws-sdk:").split(".", 1)[0]
        service, _, action = service_action.partition(":")
        action = action[:1].upper() + action[1:]

        def placeholder_target(key: str) -> JSON:
            value = params.get(key)
            if isinstance(value, str) and value.startswith("${") and value.endswith("}"):
                return value[2:-1]
            return None

        if service == "dynamodb":
            table = placeholder_target("TableName")
            arn: JSON = {"Fn::GetAtt": [table, "Arn"]}
            if not isinstance(table, str):
                arn = {
                    "Fn::Sub": "arn:${AWS::Partition}:dynamodb:${AWS::Region}:"
                    "${AWS::AccountId}:table/*"
                }
            return [_allow([f"dynamodb:{action}"], arn)]
        if service == "lambda":
            fn = placeholder_target("FunctionName")
            target: JSON = {"Fn::GetAtt": [fn, "Arn"]} if isinstance(fn, str) else "*"
            return [_allow(["lambda:InvokeFunction"], target)]
        if service == "sns":
            topic = placeholder_target("TopicArn")
            return [_allow(["sns:Publish"], {"Ref": topic} if isinstance(topic, str) else "*")]
        if service == "redshiftdata":
            statements: list[JSON] = [
                _allow(
                    [
                        "redshift-data:DescribeStatement",
                        "redshift-data:GetStatementResult",
                        "redshift-data:CancelStatement",
                        "redshift-data:ListStatements",
                    ],
                    "*",  # statement ids have no ARN: AWS scopes these to the caller
                )
            ]
            if action in ("ExecuteStatement", "BatchExecuteStatement"):
                if "ClusterIdentifier" in params:
                    statements.append(
                        _allow(
                            [f"redshift-data:{action}"],
                            {
                                "Fn::Sub": "arn:${AWS::Partition}:redshift:${AWS::Region}:"
                                "${AWS::AccountId}:cluster:${RedshiftClusterIdentifier}"
                            },
                        )
                    )
                    statements.append(
                        _allow(
                            ["redshift:GetClusterCredentialsWithIAM"],
                            {
                                "Fn::Sub": "arn:${AWS::Partition}:redshift:${AWS::Region}:"
                                "${AWS::AccountId}:dbname:${RedshiftClusterIdentifier}/*"
                            },
                        )
                    )
                elif "WorkgroupName" in params:
                    statements.append(
                        _allow(
                            [f"redshift-data:{action}", "redshift-serverless:GetCredentials"],
                            {
                                "Fn::Sub": "arn:${AWS::Partition}:redshift-serverless:"
                                "${AWS::Region}:${AWS::AccountId}:workgroup/*"
                            },
                        )
                    )
            return statements
        if service == "states" and action in ("StartExecution", "StartExecution.sync"):
            return [
                _allow(
                    ["states:StartExecution"],
                    {
                        "Fn::Sub": "arn:${AWS::Partition}:states:${AWS::Region}:"
                        "${AWS::AccountId}:stateMachine:*"
                    },
                )
            ]
        return []

    def add_schedules(self) -> None:
        schedules = [s for s in self.snapshot.schedules if s.state_machine in self.machines]
        for s in self.snapshot.schedules:
            if s.state_machine not in self.machines:
                self.notes.append(
                    f"schedule {s.name}: target {s.state_machine} is not a state machine of the "
                    "project, not exported"
                )
        if not schedules:
            return
        role = logical_id("SchedulerRole", "", self.taken)
        targets: list[JSON] = [{"Ref": self.machines[s.state_machine]} for s in schedules]
        self.resources[role] = {
            "Type": "AWS::IAM::Role",
            "Properties": {
                "AssumeRolePolicyDocument": _trust("scheduler.amazonaws.com"),
                "Policies": [
                    {
                        "PolicyName": "start-executions",
                        "PolicyDocument": {
                            "Version": "2012-10-17",
                            "Statement": [_allow(["states:StartExecution"], targets)],
                        },
                    }
                ],
            },
        }
        for s in schedules:
            lid = logical_id("Schedule", s.name, self.taken)
            props: JSONObject = {
                "Name": s.name,
                "ScheduleExpression": s.expression,
                "ScheduleExpressionTimezone": s.timezone,
                "FlexibleTimeWindow": {"Mode": "OFF"},
                "State": "ENABLED" if s.enabled else "DISABLED",
                "Target": {
                    "Arn": {"Ref": self.machines[s.state_machine]},
                    "RoleArn": {"Fn::GetAtt": [role, "Arn"]},
                    "Input": s.input,
                },
            }
            if s.description:
                props["Description"] = s.description
            self.resources[lid] = {"Type": "AWS::Scheduler::Schedule", "Properties": props}


def _trust(service: str) -> JSONObject:
    return {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": {"Service": service}, "Action": "sts:AssumeRole"}
        ],
    }


def _lambda_role() -> JSONObject:
    """A fresh Lambda execution role (trust + basic logging); callers may add Policies to it."""
    return {
        "Type": "AWS::IAM::Role",
        "Properties": {
            "AssumeRolePolicyDocument": _trust("lambda.amazonaws.com"),
            "ManagedPolicyArns": [
                {
                    "Fn::Sub": "arn:${AWS::Partition}:iam::aws:policy/service-role/"
                    "AWSLambdaBasicExecutionRole"
                }
            ],
        },
    }


def _allow(actions: list[str], resource: JSON) -> JSON:
    listed: list[JSON] = list(actions)
    return {"Effect": "Allow", "Action": listed, "Resource": resource}


def _merge(statements: list[JSON]) -> list[JSON]:
    """One statement per distinct resource, actions merged and sorted (stable output)."""
    merged: dict[str, tuple[JSON, set[str]]] = {}
    for statement in statements:
        assert isinstance(statement, dict)
        key = json.dumps(statement["Resource"], sort_keys=True)
        actions = statement["Action"]
        assert isinstance(actions, list)
        entry = merged.setdefault(key, (statement["Resource"], set()))
        entry[1].update(str(a) for a in actions)
    return [_allow(sorted(actions), resource) for resource, actions in merged.values()]


def build_template(snapshot: Snapshot) -> Exported:
    builder = _Builder(snapshot)
    builder.add_tables()
    builder.add_topics()
    builder.add_functions()
    builder.add_machines()
    builder.add_sql_function_policies()
    builder.add_schedules()
    template: JSONObject = {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Description": snapshot.description,
    }
    if builder.parameters:
        template["Parameters"] = builder.parameters
    template["Resources"] = builder.resources
    if builder.outputs:
        template["Outputs"] = builder.outputs
    return Exported(template=template, zipped=tuple(builder.zipped), notes=tuple(builder.notes))
