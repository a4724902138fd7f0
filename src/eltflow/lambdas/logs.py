"""Function logs, like CloudWatch Logs for a Lambda function: what a handler printed (stdout,
stderr) and logged (``logging`` records) during one invocation, kept per execution and state.

Capture works per thread (thread isolation runs several handlers at once in one process): while
a handler runs, ``sys.stdout``/``sys.stderr`` are proxies that send what the handler's own
thread writes into its capture and everything else on to the real stream. As on AWS, a
handler's output goes to its logs, not to the caller's terminal (``eltflow start --wait
--json`` stays one JSON object). A process-isolated handler is captured the same way in its
own process.

Stored as JSON lines under ``.eltflow/logs/`` (one file per execution), so no migration and no
lock on the state store. Known limit: with several workers on several machines (PostgreSQL),
each machine keeps the logs of the tasks it ran; unverified against CloudWatch's exact record
shape (START/END/REPORT lines are not produced).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any, TextIO

_local = threading.local()
_install_lock = threading.Lock()
_active = 0
_saved: tuple[TextIO, TextIO] | None = None


class _Tee:
    """Writes into the current thread's capture if it has one, else to the real stream."""

    def __init__(self, real: TextIO) -> None:
        self.real = real

    def write(self, text: str) -> int:
        buf = getattr(_local, "buf", None)
        if buf is not None:
            buf.append(text)
            return len(text)
        return self.real.write(text)

    def flush(self) -> None:
        self.real.flush()

    def __getattr__(self, name: str) -> Any:  # encoding, isatty, fileno... of the real stream
        return getattr(self.real, name)


class _CaptureHandler(logging.Handler):
    """Root-logger handler that records ``logging`` calls of a capturing thread only."""

    def emit(self, record: logging.LogRecord) -> None:
        buf = getattr(_local, "buf", None)
        if buf is not None:
            buf.append(f"[{record.levelname}] {record.name}: {record.getMessage()}\n")


_HANDLER = _CaptureHandler()


@contextlib.contextmanager
def captured() -> Iterator[list[str]]:
    """Collect what this thread prints and logs inside the block (the list fills as it runs)."""
    global _active, _saved
    buf: list[str] = []
    with _install_lock:
        if _active == 0:
            _saved = (sys.stdout, sys.stderr)
            sys.stdout = _Tee(sys.stdout)
            sys.stderr = _Tee(sys.stderr)
            logging.getLogger().addHandler(_HANDLER)
        _active += 1
    _local.buf = buf
    try:
        yield buf
    finally:
        _local.buf = None
        with _install_lock:
            _active -= 1
            if _active == 0 and _saved is not None:
                # Put back only our own proxies: something else may have replaced them since.
                if isinstance(sys.stdout, _Tee):
                    sys.stdout = _saved[0]
                if isinstance(sys.stderr, _Tee):
                    sys.stderr = _saved[1]
                logging.getLogger().removeHandler(_HANDLER)
                _saved = None


class FunctionLogs:
    """Log records per execution: ``{"timestamp", "state", "function", "requestId", "text"}``."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._lock = threading.Lock()

    def _file(self, execution_arn: str) -> Path:
        return self.folder / (hashlib.sha256(execution_arn.encode()).hexdigest()[:32] + ".jsonl")

    def append(self, execution_arn: str, record: dict[str, Any]) -> None:
        line = json.dumps({"executionArn": execution_arn, **record}, ensure_ascii=False)
        with self._lock:
            self.folder.mkdir(parents=True, exist_ok=True)
            with self._file(execution_arn).open("a", encoding="utf-8") as f:
                f.write(line + "\n")

    def read(self, execution_arn: str, state: str | None = None) -> list[dict[str, Any]]:
        path = self._file(execution_arn)
        if not path.exists():
            return []
        out = []
        for line in path.read_text(encoding="utf-8").splitlines():
            if not line.strip():
                continue
            record = json.loads(line)
            if record.get("executionArn") != execution_arn:
                continue  # a digest collision: not this execution's
            if state is None or record.get("state") == state:
                out.append(record)
        return out
