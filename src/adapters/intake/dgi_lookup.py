"""The DGI lookup Istmo has in production: none that can answer.

``PROVIDERS.md`` ("Panama DGI electronic invoice") documents the QR's URL and the DGI's consultation
*page* (``https://dgi-fep.mef.gob.pa/Consultas/FacturasPorCUFE/<CUFE>``): a web page for people, with
no documented machine-readable answer, so there is no wire format to build a client on (and scraping
an undocumented page would break silently). Until the DGI, or a PAC, offers a documented service,
every invoice found by its QR is a draft of what its CUFE carries, marked NEEDS_REVIEW with this
reason; an adapter that speaks such a service replaces this one in the container.
"""

from __future__ import annotations

from application.intake.ports import DgiLookupUnavailable
from domain.purchases.invoices import ParsedInvoice

REASON = "Istmo has no service to consult the DGI by CUFE; check the invoice on the DGI's page"


class UnavailableDgiLookup:
    def invoice(self, cufe: str) -> ParsedInvoice | None:
        raise DgiLookupUnavailable(REASON)
