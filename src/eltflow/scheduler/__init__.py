"""scheduler layer (see DESIGN.md §2): EventBridge Scheduler semantics, run durably.

Modules, bottom up:

- :mod:`.cron` — AWS six-field cron parsing and the wall-clock search (pure).
- :mod:`.expressions` — ``rate()``/``cron()``/``at()``: ``parse_expression``, ``next_fire``,
  ``fires_between`` with IANA zones and AWS's DST rules (pure).
- :mod:`.model` — ``Schedule`` (validated at construction), ``Fire``, policies, config/JSON.
- :mod:`.planning` — which fires are due at ``now``: catch-up, flexible windows (pure).
- :mod:`.store` — schedules and the fire ledger in the state store (``sql/*.sql``).
- :mod:`.service` — ``SchedulerService``: ``tick(now)``, ``run(stop)``, ``backfill``.
- :mod:`.target` — the local Step Functions runtime as the target.
- :mod:`.schedules` — the schedules service the CLI and the API call (``App.schedules``).

Where this differs from AWS (on purpose or by necessity):

- A time that happens twice at a fall-back fires at its *first* occurrence (AWS documents only
  that it fires once).
- Quartz forms AWS's table doesn't list are accepted: ``/`` in day-of-week and wrap-around
  ranges such as ``22-2`` or ``FRI-MON``. ``L-n`` offsets are rejected.
- Fires happen within one scheduler tick of their time (default 1 s) rather than "within the
  minute". A rate without StartDate counts from its creation time rounded down to the second.
- Catch-up after downtime, overlap policies and backfill are extensions: Scheduler has none.
- RetryPolicy and dead-letter queues are not modelled: a start the target rejects (unknown
  state machine, invalid input) is recorded as FAILED with AWS's error; any other failure is
  retried, under the same execution name, once the fire's lease expires.
"""
