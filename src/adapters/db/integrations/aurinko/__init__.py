"""The Aurinko connector's persistence: the tenant's connection, used OAuth states, the synced inbox."""
