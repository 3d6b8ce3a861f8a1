"""Document intake: the strategies (one adapter per format), their limits, and the DGI lookup.

The DGI lookup is ``UnavailableDgiLookup``: no documented service answers a CUFE (see its module),
so an invoice found by its QR becomes a draft holding what the CUFE carries, NEEDS_REVIEW, saying so."""

from __future__ import annotations

from dependency_injector import providers

from adapters.intake.dgi_lookup import UnavailableDgiLookup
from adapters.intake.strategies import default_strategies
from application.intake.ports import IntakeLimits
from entrypoints.config import Settings
from entrypoints.containers.base import DomainServices


def _limits(settings: Settings) -> IntakeLimits:
    read = settings.variables.integer
    return IntakeLimits(
        max_bytes=read("INTAKE_MAX_BYTES", 20 * 1024 * 1024),
        max_rows=read("INTAKE_MAX_ROWS", 50_000),
        max_pages=read("INTAKE_MAX_PAGES", 10),
        max_unzipped_bytes=read("INTAKE_MAX_UNZIPPED_BYTES", 100 * 1024 * 1024),
        max_image_pixels=read("INTAKE_MAX_IMAGE_PIXELS", 40_000_000),
    )


class Services(DomainServices):
    settings = providers.Dependency(instance_of=Settings)

    intake_limits = providers.Singleton(_limits, settings=settings)
    intake_strategies = providers.Singleton(default_strategies, intake_limits)

    dgi_lookup = providers.Singleton(UnavailableDgiLookup)

    exports = providers.Dict(intake_limits=intake_limits, intake_strategies=intake_strategies, dgi_lookup=dgi_lookup)
