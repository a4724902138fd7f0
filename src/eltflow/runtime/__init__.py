"""The runtime layer (DESIGN.md §2): executions as an append-only, AWS-shaped history.

- :mod:`~eltflow.runtime.service` — the Step Functions API (machines, executions, history,
  stop, redrive) in AWS's vocabulary and response shapes;
- :mod:`~eltflow.runtime.engine` — one interpreter step recorded per transaction (events,
  task and timer rows, the execution projection);
- :mod:`~eltflow.runtime.worker` — leased claims, a task thread pool, durable timers;
- :mod:`~eltflow.runtime.projection` — the execution row rebuilt from history;
- :mod:`~eltflow.runtime.tasks` — running one task, durably and in memory alike;
- :mod:`~eltflow.runtime.local` — ``eltflow.execute``: the same engine, worker and task runner
  over :class:`~eltflow.store.memory.MemoryStore` (one driver).

Build them together with :func:`eltflow.app.build_app`.
"""
