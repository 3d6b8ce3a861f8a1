"""The jobs' persistence: the transactional outbox and the queue the workers drain."""
