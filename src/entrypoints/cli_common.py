"""What every ``istmo`` command group needs: the container from the environment, a message run
through the bus with a domain error as one line, and the tenant a ``--tenant`` names."""

from __future__ import annotations

from typing import Any

import click

from domain.shared.errors import DomainError
from entrypoints.config import ConfigurationError, Settings
from entrypoints.container import Container, build_container


def open_container() -> Container:
    try:
        return build_container(Settings.from_env())
    except ConfigurationError as error:
        raise click.ClickException(str(error)) from None


def run(container: Container, message: Any) -> Any:
    try:
        return container.bus().handle(message)
    except DomainError as error:
        raise click.ClickException(f"{error.code}: {error.message}") from None


def tenant(container: Container, reference: str) -> Any:
    """The tenant a ``--tenant`` names, by slug or id (issue 18); an unknown one stops the command."""
    from application.tenancy.handlers import FindTenant

    return run(container, FindTenant(actor=None, reference=reference))
