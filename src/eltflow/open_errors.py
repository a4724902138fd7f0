"""Why a database could not be opened, said with what to do about it.

The drivers' own texts (psycopg's ``FATAL: database "x" does not exist``, DuckDB's
``Could not set lock on file``) name the problem but not the fix, and reached users as a
traceback when nobody translated them. These functions read only the text of the driver's
error, so they import no driver, and sit below both the state store and the warehouses (which
may not import each other). The error classes stay in :mod:`eltflow.errors`, which must stay
free of I/O.
"""

from __future__ import annotations

import re
import shlex
from pathlib import Path
from urllib.parse import unquote, urlsplit

_PG_MISSING_DB = re.compile(r'database "([^"]+)" does not exist')
_DUCKDB_LOCK = re.compile(r"Conflicting lock is held in (.+?) \(PID (\d+)\)")
_MAX_COMMAND = 160


def redact(url: str) -> str:
    """``url`` with its password replaced by ``***``."""
    return re.sub(r"//([^:/@]+):[^@]*@", r"//\1:***@", url)


def postgres_connect_failure(url: str, error: Exception) -> str:
    """The message for ``psycopg.connect(url)`` raising ``error``.

    A missing database names the ``createdb`` command for this server; anything else keeps the
    driver's text (the server says best why it refused), with the URL's password hidden.
    """
    text = str(error).strip()
    missing = _PG_MISSING_DB.search(text)
    if missing is None:
        return f"cannot connect to PostgreSQL at {redact(url)}: {text}"
    name = missing.group(1)
    return (
        f'PostgreSQL database "{name}" does not exist (at {redact(url)}); '
        f"create it with: {createdb_command(url, name)}"
    )


def createdb_command(url: str, name: str) -> str:
    """``createdb`` with the host, port and user of ``url`` (what libpq would use)."""
    parts = urlsplit(url)
    words = ["createdb"]
    if parts.hostname:
        words += ["-h", parts.hostname]
    if parts.port:
        words += ["-p", str(parts.port)]
    if parts.username:
        words += ["-U", unquote(parts.username)]
    return shlex.join([*words, name])


def duckdb_lock_holder(error: Exception) -> str | None:
    """ "PID n: command line" of the process DuckDB says holds the file, if it says so."""
    held = _DUCKDB_LOCK.search(str(error))
    if held is None:
        return None
    program, pid = held.group(1), held.group(2)
    return f"PID {pid}: {_command_line(pid) or program}"


def duckdb_open_failure(path: str, error: Exception) -> str:
    """The message for ``duckdb.connect(path)`` raising ``error``.

    DuckDB lets one process at a time open a file for writing, so an ``eltflow serve`` (or a
    worker, or a notebook) holding the warehouse blocks every other command that needs it.
    """
    if "Could not set lock" not in str(error):
        return f"cannot open the DuckDB file {path}: {error}"
    holder = duckdb_lock_holder(error)
    by = f" ({holder})" if holder else ""
    return (
        f"the DuckDB file {path} is locked by another process{by}; DuckDB lets one process "
        "open a file at a time. Stop that process (or wait for it to finish) and run this "
        'again, or point the warehouse at PostgreSQL (warehouse = "postgresql://..." in '
        "eltflow.toml) so several processes can share it."
    )


def _command_line(pid: str) -> str | None:
    # Linux only; elsewhere (or without permission) DuckDB's program path is what we have.
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return None
    # One line, however the process was started (``python -c`` with a script, say).
    text = " ".join(raw.decode(errors="replace").replace("\0", " ").split())
    if not text:
        return None
    return text if len(text) <= _MAX_COMMAND else text[: _MAX_COMMAND - 3] + "..."
