"""The strategies document intake routes to, in the order the router asks them (the most specific
first; CSV, which recognises any delimited text, last). Adding a format: its adapter, one line here."""

from __future__ import annotations

from adapters.intake.camt053 import Camt053Strategy
from adapters.intake.dgi_qr import DgiQrStrategy
from adapters.intake.dgi_xml import DgiXmlStrategy
from adapters.intake.mt940 import Mt940Strategy
from adapters.intake.ofx import OfxStrategy
from adapters.intake.tabular import CsvStrategy, XlsxStrategy
from application.intake.ports import IntakeLimits, IntakeStrategy


def default_strategies(limits: IntakeLimits) -> tuple[IntakeStrategy, ...]:
    return (
        OfxStrategy(limits),
        Camt053Strategy(limits),
        DgiXmlStrategy(limits),
        Mt940Strategy(limits),
        XlsxStrategy(limits),
        DgiQrStrategy(limits),
        CsvStrategy(limits),
    )
