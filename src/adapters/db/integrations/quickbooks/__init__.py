"""The QuickBooks connector's persistence: the connection, used OAuth states, the sync links."""
