"""Webhooks (Standard Webhooks 1.0): the outbox delivered to brands' endpoints.

```
write transaction ── session_events (app.outbox)      the one record of every change
        │ commit: wake this process's dispatcher (PostgreSQL: others hear the relay)
        ▼
Dispatcher (every process; SQLite: the lease holder)            dispatcher.py
  fan_out ── position row locked ── webhook_deliveries, one per message and endpoint
  claim   ── due, first pending per (endpoint, session), SKIP LOCKED, leased
  send    ── targets.resolve (SSRF) ── delivery.attempt (signing.headers) ── record
                                       └── schedule: retry with jitter, or give up
```

Endpoints are managed by app.resolvers.webhooks; what a message says, by messages.py.
"""
