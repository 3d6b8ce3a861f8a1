"""Aurinko (unified mailbox API) adapters: OAuth, inbox sync, sending, over ``requests``."""
