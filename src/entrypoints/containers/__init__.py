"""The containers the composition root (``entrypoints.container``) is made of: ``core`` (settings,
database, clock, storage, secrets, jobs), ``gateways`` (clients of the outside world and the
verifiers of what it sends us) and one container per domain, providing what its module needs."""
