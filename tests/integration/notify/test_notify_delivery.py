"""SNS-like topics delivering to a real webhook on 127.0.0.1, a real SMTP server and files,
with retries, backoff and a delivery log; and the sns:publish Task integration."""

from __future__ import annotations

import json
import socket
import socketserver
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from eltflow.clock import VirtualClock
from eltflow.config import load_settings
from eltflow.errors import AwsApiError, StatesError
from eltflow.integrations.base import Registry, TaskRequest
from eltflow.integrations.sns import register
from eltflow.notify.topics import Topics, build_topics
from eltflow.store.db import Database
from eltflow.store.migrate import migrate


# -- real local servers: HTTP on 127.0.0.1 and a minimal SMTP -----------------------------------
@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Webhook:
    url: str
    received: list[Received] = field(default_factory=list)
    # status codes to answer, in order; 200 once exhausted
    script: list[int] = field(default_factory=list)


@contextmanager
def webhook_server(script: list[int] | None = None) -> Iterator[Webhook]:
    hook = Webhook(url="", script=list(script or []))

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            body = self.rfile.read(length)
            hook.received.append(Received(self.path, dict(self.headers.items()), body))
            status = hook.script.pop(0) if hook.script else 200
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: object) -> None:  # keep test output quiet
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    hook.url = f"http://127.0.0.1:{server.server_address[1]}/hook"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield hook
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


@dataclass
class Mailbox:
    port: int
    messages: list[tuple[str, list[str], str]] = field(default_factory=list)


@contextmanager
def smtp_server() -> Iterator[Mailbox]:
    """Just enough SMTP (RFC 5321) for smtplib: greeting, EHLO, MAIL, RCPT, DATA, QUIT."""
    box = Mailbox(port=0)

    class Handler(socketserver.StreamRequestHandler):
        def handle(self) -> None:
            def send(line: str) -> None:
                self.wfile.write((line + "\r\n").encode())

            send("220 localhost test SMTP")
            sender, rcpts = "", []
            while True:
                raw = self.rfile.readline()
                if not raw:
                    return
                cmd = raw.decode().strip()
                upper = cmd.upper()
                if upper.startswith(("EHLO", "HELO")):
                    send("250 localhost")
                elif upper.startswith("MAIL FROM:"):
                    sender = cmd[10:].strip().strip("<>")
                    send("250 OK")
                elif upper.startswith("RCPT TO:"):
                    rcpts.append(cmd[8:].strip().strip("<>"))
                    send("250 OK")
                elif upper == "DATA":
                    send("354 End data with <CR><LF>.<CR><LF>")
                    lines = []
                    while True:
                        line = self.rfile.readline().decode()
                        if line in (".\r\n", ".\n", ""):
                            break
                        lines.append(line)
                    box.messages.append((sender, rcpts, "".join(lines)))
                    send("250 OK queued")
                elif upper == "QUIT":
                    send("221 bye")
                    return
                else:
                    send("250 OK")

    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    box.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield box
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def db(store_url: str) -> Iterator[Database]:
    database = Database(store_url)
    migrate(database)
    yield database
    database.close()


def _topics(tmp_path: Path, db: Database, toml: str, clock: VirtualClock) -> Topics:
    (tmp_path / "eltflow.toml").write_text(toml, "utf-8")
    return build_topics(load_settings(tmp_path, environ={}), db, clock)


def test_webhook_receives_json_with_retries_and_backoff(tmp_path: Path, db: Database) -> None:
    clock = VirtualClock()
    start = clock.now()
    with webhook_server(script=[500, 503]) as hook:
        toml = f"""
[topics.events]
subscriptions = [{{ protocol = "http", endpoint = "{hook.url}" }}]
[notify.http]
max_attempts = 4
backoff_base = 0.5
"""
        topics = _topics(tmp_path, db, toml, clock)
        out = topics.publish(
            {
                "TopicArn": topics.arn("events"),
                "Message": "job 101 finished",
                "Subject": "ETL",
                "MessageAttributes": {"JobID": {"DataType": "String", "StringValue": "101"}},
            }
        )
        assert len(hook.received) == 3  # two 5xx answers, then success
        last = hook.received[-1]
        body = json.loads(last.body)
        assert body["Type"] == "Notification"
        assert body["MessageId"] == out["MessageId"]
        assert body["Message"] == "job 101 finished" and body["Subject"] == "ETL"
        assert body["TopicArn"] == "arn:aws:sns:us-east-1:123456789012:events"
        assert body["MessageAttributes"] == {"JobID": {"Type": "String", "Value": "101"}}
        assert last.headers["x-amz-sns-message-type"] == "Notification"
    # backoff 0.5 s then 1.0 s, on the injected clock
    assert (clock.now() - start).total_seconds() == pytest.approx(1.5)
    [row] = topics.deliveries(out["MessageId"])
    assert (row["status"], row["attempts"]) == ("delivered", 3)


def test_failed_deliveries_are_recorded_not_lost(tmp_path: Path, db: Database) -> None:
    clock = VirtualClock()
    with webhook_server(script=[404]) as hook:
        dead = f"http://127.0.0.1:{free_port()}/nobody"
        toml = f"""
[topics.events]
subscriptions = [
  {{ protocol = "http", endpoint = "{hook.url}" }},
  {{ protocol = "http", endpoint = "{dead}" }},
]
[notify.http]
max_attempts = 3
backoff_base = 0.1
timeout = 2
"""
        topics = _topics(tmp_path, db, toml, clock)
        out = topics.publish({"TopicArn": topics.arn("events"), "Message": "x"})
    rows = {r["endpoint"]: r for r in topics.deliveries(out["MessageId"])}
    assert (rows[hook.url]["status"], rows[hook.url]["attempts"]) == ("failed", 1)
    assert "HTTP 404" in rows[hook.url]["error"]
    assert (rows[dead]["status"], rows[dead]["attempts"]) == ("failed", 3)
    assert "gave up after 3 attempts" in rows[dead]["error"]


def test_email_and_file_subscriptions(tmp_path: Path, db: Database) -> None:
    with smtp_server() as box:
        toml = f"""
[topics.ops]
subscriptions = [
  {{ protocol = "email", endpoint = "oncall@example.com" }},
  {{ protocol = "file", endpoint = "out/notes.jsonl" }},
]
[notify.smtp]
host = "127.0.0.1"
port = {box.port}
sender = "eltflow@example.com"
"""
        topics = _topics(tmp_path, db, toml, VirtualClock())
        topics.publish({"TopicArn": topics.arn("ops"), "Message": "load failed", "Subject": "ETL"})
        [(sender, rcpts, data)] = box.messages
    assert sender == "eltflow@example.com" and rcpts == ["oncall@example.com"]
    assert "Subject: ETL" in data and "load failed" in data
    [line] = (tmp_path / "out" / "notes.jsonl").read_text("utf-8").splitlines()
    assert json.loads(line)["Message"] == "load failed"


def test_sns_publish_integration(tmp_path: Path, db: Database) -> None:
    topics = _topics(
        tmp_path,
        db,
        '[topics.events]\nsubscriptions = [{ protocol = "file", endpoint = "n.jsonl" }]\n',
        VirtualClock(),
    )
    registry = Registry()
    register(registry, topics)
    publish = registry.resolve("arn:aws:states:::sns:publish")
    assert publish is not None
    out = publish(
        TaskRequest(
            resource="arn:aws:states:::sns:publish",
            parameters={"TopicArn": topics.arn("events"), "Message": {"JobID": "101", "ok": True}},
        )
    )
    assert isinstance(out, dict) and out["MessageId"]
    assert out["SdkResponseMetadata"]
    [line] = (tmp_path / "n.jsonl").read_text("utf-8").splitlines()
    assert json.loads(json.loads(line)["Message"]) == {"JobID": "101", "ok": True}
    with pytest.raises(StatesError) as e:
        publish(
            TaskRequest(
                resource="arn:aws:states:::sns:publish",
                parameters={"TopicArn": topics.arn("nope"), "Message": "x"},
            )
        )
    assert e.value.error == "SNS.NotFoundException"
    assert e.value.cause.startswith("Topic does not exist (Service: AmazonSNS; Status Code: 404;")


def test_topics_subscriptions_and_the_delivery_log(tmp_path: Path, db: Database) -> None:
    """Every query of the topics' store (store/sql/notify.sql) on SQLite and PostgreSQL:
    idempotent create and subscribe, listings, unsubscribe, the delivery log newest first."""
    clock = VirtualClock()
    topics = Topics(db, clock=clock, base_dir=tmp_path)
    arn = topics.create_topic({"Name": "b-events"})["TopicArn"]
    assert topics.create_topic({"Name": "b-events"})["TopicArn"] == arn
    topics.create_topic({"Name": "a-ops"})
    assert [t["TopicArn"].rsplit(":", 1)[1] for t in topics.list_topics({})["Topics"]] == [
        "a-ops",
        "b-events",
    ]
    one = {"TopicArn": arn, "Protocol": "file", "Endpoint": "one.jsonl"}
    first = topics.subscribe(one)["SubscriptionArn"]
    assert topics.subscribe(one)["SubscriptionArn"] == first
    clock.advance(1)
    second = topics.subscribe({**one, "Endpoint": "two.jsonl"})["SubscriptionArn"]
    listed = topics.list_subscriptions_by_topic({"TopicArn": arn})["Subscriptions"]
    assert [s["SubscriptionArn"] for s in listed] == [first, second]
    ids = []
    for n in range(3):
        clock.advance(1)
        ids.append(topics.publish({"TopicArn": arn, "Message": f"m{n}"})["MessageId"])
    recent = topics.recent_notifications(limit=2)
    assert [m["MessageId"] for m in recent] == [ids[2], ids[1]]
    deliveries = recent[0]["Deliveries"]
    assert isinstance(deliveries, list)
    assert [d["Status"] for d in deliveries if isinstance(d, dict)] == ["delivered"] * 2
    assert len(topics.deliveries()) == 6
    topics.unsubscribe({"SubscriptionArn": first})
    assert [s.arn for s in topics.subscriptions("b-events")] == [second]
    topics.delete_topic({"TopicArn": arn})
    assert topics.subscriptions("b-events") == []
    assert len(topics.deliveries()) == 6  # the log is history: it stays
    with pytest.raises(AwsApiError, match="Topic does not exist"):
        topics.publish({"TopicArn": arn, "Message": "gone"})
