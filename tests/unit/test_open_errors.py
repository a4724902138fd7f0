"""The messages for a database that cannot be opened, from the drivers' own error texts."""

from __future__ import annotations

from eltflow.open_errors import (
    createdb_command,
    duckdb_open_failure,
    postgres_connect_failure,
    redact,
)

# psycopg 3's text for a connection to a database that does not exist.
MISSING = (
    'connection failed: connection to server at "10.0.0.5", port 6543 failed: '
    'FATAL:  database "warehouse" does not exist'
)


def test_a_missing_database_names_createdb_for_that_server() -> None:
    url = "postgresql://etl:s3cret@10.0.0.5:6543/warehouse"
    message = postgres_connect_failure(url, OSError(MISSING))
    assert message == (
        'PostgreSQL database "warehouse" does not exist (at postgresql://etl:***@10.0.0.5:6543/'
        "warehouse); create it with: createdb -h 10.0.0.5 -p 6543 -U etl warehouse"
    )


def test_createdb_quotes_what_a_shell_would_split() -> None:
    assert createdb_command("postgresql:///x", "my db") == "createdb 'my db'"
    assert createdb_command("postgresql://a%20b@h/x", "x") == "createdb -h h -U 'a b' x"


def test_other_connection_failures_keep_the_servers_reason_without_the_password() -> None:
    message = postgres_connect_failure(
        "postgres://u:pw@h/db", OSError('FATAL:  password authentication failed for user "u"')
    )
    assert message == (
        "cannot connect to PostgreSQL at postgres://u:***@h/db: "
        'FATAL:  password authentication failed for user "u"'
    )
    assert redact("postgresql://h/db") == "postgresql://h/db"


def test_a_duckdb_lock_without_a_pid_still_says_what_to_do() -> None:
    message = duckdb_open_failure("/w.duckdb", OSError('IO Error: Could not set lock on file "x"'))
    assert message.startswith("the DuckDB file /w.duckdb is locked by another process; ")
    assert "Stop that process" in message
    other = duckdb_open_failure("/w.duckdb", OSError("IO Error: disk full"))
    assert other == "cannot open the DuckDB file /w.duckdb: IO Error: disk full"
