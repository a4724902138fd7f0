"""Local CloudFormation's records in the state store, on SQLite and PostgreSQL: every query of
store/sql/stacks.sql through :class:`StackStore` and :class:`ChangeSetStore` (the stacks tests
elsewhere deploy on SQLite only)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

import pytest

from eltflow.errors import AwsApiError
from eltflow.stacks.changes import ResourceChange
from eltflow.stacks.changesets import ChangeSetRecord, ChangeSetStore
from eltflow.stacks.records import (
    EventRecord,
    OutputRecord,
    ParameterRecord,
    ResourceRecord,
    StackRecord,
    StackStore,
)
from eltflow.store.db import Database
from eltflow.store.migrate import migrate

ARN = "arn:aws:cloudformation:us-east-1:000000000000:stack"


@pytest.fixture
def db(store_url: str) -> Iterator[Database]:
    database = Database(store_url)
    migrate(database)
    yield database
    database.close()


def _stack(name: str, **fields: object) -> StackRecord:
    base: dict[str, object] = {
        "stack_id": f"{ARN}/{name}/1",
        "status": "CREATE_COMPLETE",
        "template": '{"Resources": {}}',
        "created_us": 1_000,
    }
    return StackRecord(name=name, **{**base, **fields})  # type: ignore[arg-type]


def _resource(logical_id: str, position: int) -> ResourceRecord:
    return ResourceRecord(
        logical_id=logical_id,
        type="AWS::SNS::Topic",
        physical_id=f"arn:aws:sns:us-east-1:000000000000:{logical_id}",
        status="CREATE_COMPLETE",
        properties={"TopicName": logical_id, "Tags": [{"Key": "k", "Value": "v"}]},
        attributes={"TopicName": logical_id},
        position=position,
        updated_us=2_000,
    )


def _change_set(name: str, stack: StackRecord, created_us: int) -> ChangeSetRecord:
    return ChangeSetRecord(
        change_set_id=f"arn:aws:cloudformation:us-east-1:000000000000:changeSet/{name}/1",
        name=name,
        stack_name=stack.name,
        stack_id=stack.stack_id,
        type="UPDATE",
        status="CREATE_COMPLETE",
        execution_status="AVAILABLE",
        template=stack.template,
        parameters=(ParameterRecord(key="Env", value="dev"),),
        changes=(ResourceChange(action="Add", logical_id="T", type="AWS::SNS::Topic"),),
        created_us=created_us,
        based_on_us=1_000,
    )


def test_a_stack_reads_back_with_its_resources_and_exports(db: Database) -> None:
    stacks = StackStore(db)
    net = _stack(
        "net",
        description="the network",
        parameters=(ParameterRecord(key="Secret", value="s3cr3t", no_echo=True),),
        outputs=(OutputRecord(key="Vpc", value="vpc-1", export_name="net-vpc"),),
        resources=(_resource("B", 1), _resource("A", 0), _resource("C", 0)),
    )
    stacks.save(net)
    app = _stack("app", imports=("net-vpc",), updated_us=None)
    stacks.save(app)
    got = stacks.get("net")
    assert got is not None
    # Resources in creation order, then by logical id.
    assert [r.logical_id for r in got.resources] == ["A", "C", "B"]
    assert got == replace(net, resources=got.resources)
    assert stacks.get("missing") is None
    assert [s.name for s in stacks.all()] == ["app", "net"]
    assert stacks.exports() == {"net-vpc": "vpc-1"}
    assert stacks.exports(excluding="net") == {}
    assert stacks.exporter("net-vpc") == "net" and stacks.exporter("other") == ""
    assert stacks.importers(["net-vpc"], excluding="net") == {"net-vpc": "app"}
    assert stacks.stack_id_of("net") == net.stack_id and stacks.stack_id_of("nope") is None

    # An update rewrites resources and exports and keeps the creation time.
    updated = replace(
        net, status="UPDATE_COMPLETE", created_us=9_999, updated_us=3_000, outputs=(), resources=()
    )
    stacks.save(updated)
    assert stacks.get("net") == replace(updated, created_us=1_000)
    assert stacks.exports() == {}


def test_an_export_another_stack_owns_is_refused(db: Database) -> None:
    stacks = StackStore(db)
    output = OutputRecord(key="Vpc", value="vpc-1", export_name="shared")
    stacks.save(_stack("one", outputs=(output,)))
    with pytest.raises(AwsApiError) as e:
        stacks.save(_stack("two", outputs=(output,)))
    assert e.value.code == "ValidationError"
    assert "Export with name shared is already exported by stack one" in str(e.value)
    assert stacks.get("two") is None and stacks.exporter("shared") == "one"


def test_claim_is_one_check_and_write_and_events_outlive_the_stack(db: Database) -> None:
    stacks = StackStore(db)
    creating = _stack("s", status="CREATE_IN_PROGRESS", description="d")
    assert stacks.claim(creating, None) is True
    assert stacks.claim(creating, None) is False  # a second create of one stack
    claimed = stacks.get("s")
    assert claimed is not None and claimed.status == "CREATE_IN_PROGRESS"
    assert (claimed.parameters, claimed.outputs, claimed.updated_us) == ((), (), None)
    updating = replace(creating, status="UPDATE_IN_PROGRESS", reason="User Initiated")
    assert stacks.claim(updating, "CREATE_COMPLETE") is False  # not in that status
    assert stacks.claim(updating, "CREATE_IN_PROGRESS") is True
    got = stacks.get("s")
    assert got is not None and (got.status, got.reason) == ("UPDATE_IN_PROGRESS", "User Initiated")

    for i, status in enumerate(("CREATE_IN_PROGRESS", "CREATE_COMPLETE"), start=1):
        stacks.add_event(
            EventRecord(
                stack_id=creating.stack_id,
                stack_name="s",
                event_id=f"e{i}",
                logical_id="s",
                physical_id=creating.stack_id,
                type="AWS::CloudFormation::Stack",
                status=status,
                reason="",
                timestamp_us=i,
            )
        )
    assert [e.event_id for e in stacks.events(creating.stack_id)] == ["e2", "e1"]

    changes = ChangeSetStore(db)
    changes.add(_change_set("cs", creating, 5))
    stacks.delete("s")
    assert stacks.get("s") is None and stacks.stack_id_of("s") is None
    assert changes.of_stack(creating.stack_id) == []
    # A deleted stack is still found by its id while it has events (DescribeStackEvents).
    assert stacks.stack_id_of(creating.stack_id) == creating.stack_id
    assert stacks.stack_id_of(f"{ARN}/other/1") is None
    assert len(stacks.events(creating.stack_id)) == 2


def test_change_sets_by_id_by_name_and_by_stack(db: Database) -> None:
    stack = _stack("s")
    store = ChangeSetStore(db)
    first, second = _change_set("b-first", stack, 5), _change_set("a-second", stack, 7)
    store.add(second)
    store.add(first)
    with pytest.raises(AwsApiError) as e:
        store.add(replace(first, change_set_id="arn:other"))
    assert e.value.code == "AlreadyExistsException"
    assert store.find(first.change_set_id, "ignored") == first
    assert store.find("b-first", "s") == first
    assert store.find("b-first", stack.stack_id) == first
    assert store.find("b-first", "other-stack") is None
    assert store.of_stack("s") == [first, second]  # by creation time
    assert store.of_stack(stack.stack_id) == [first, second]
    store.delete(first.change_set_id)
    assert store.of_stack("s") == [second]
    store.delete_of_stack(stack.stack_id)
    assert store.of_stack("s") == []
