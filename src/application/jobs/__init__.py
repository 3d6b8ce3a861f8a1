"""The durable job runner: outbox ports, the queue the worker drains, schedules and the worker."""
