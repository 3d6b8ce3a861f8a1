"""An import-linter contract: business domains stay independent except for what is declared.

A domain ``d`` is the package ``<layer>.d`` in each layer listed (``domain.emails``,
``application.emails``, ``adapters.db.emails``, ...). A module of one domain may import another
domain's modules only if that domain is in ``common`` (everyone may use it) or declared in
``allowed`` as ``"d -> e, f"``. Modules outside every domain (the module list, the composition
root) are not checked. Configured in ``pyproject.toml``; ``lint-imports`` (run by ``make test``)
loads it through ``contract_types``.
"""

from __future__ import annotations

from importlinter import Contract, ContractCheck, fields, output


class DomainDependenciesContract(Contract):
    type_name = "domains"

    layers = fields.ListField(subfield=fields.StringField())
    domains = fields.ListField(subfield=fields.StringField())
    common = fields.ListField(subfield=fields.StringField())
    allowed = fields.ListField(subfield=fields.StringField())

    def check(self, graph, verbose: bool) -> ContractCheck:  # type: ignore[no-untyped-def]
        layers = [str(layer) for layer in self.layers]  # type: ignore[attr-defined]
        domains = {str(name) for name in self.domains}  # type: ignore[attr-defined]
        common = {str(name) for name in self.common}  # type: ignore[attr-defined]
        allowed = _parse_allowed(self.allowed, domains)  # type: ignore[attr-defined]

        def domain_of(module: str) -> str | None:
            for layer in layers:
                if module.startswith(layer + "."):
                    name = module[len(layer) + 1 :].split(".")[0]
                    return name if name in domains else None
            return None

        broken = []
        for importer in sorted(graph.modules):
            source = domain_of(importer)
            if source is None:
                continue
            for imported in sorted(graph.find_modules_directly_imported_by(importer)):
                target = domain_of(imported)
                if target in (None, source) or target in common or target in allowed.get(source, ()):
                    continue
                details = graph.get_import_details(importer=importer, imported=imported)
                lines = ", ".join(str(d["line_number"]) for d in details) or "?"
                broken.append(f"{importer} -> {imported} (l. {lines}): {source} may not use {target}")
        return ContractCheck(kept=not broken, metadata={"broken": broken})

    def render_broken_contract(self, check: ContractCheck) -> None:
        for line in check.metadata["broken"]:
            output.print_error(line)
        output.new_line()


def _parse_allowed(entries: list[object], domains: set[str]) -> dict[str, set[str]]:
    allowed: dict[str, set[str]] = {}
    for entry in entries:
        source, _, targets = str(entry).partition("->")
        names = {name.strip() for name in targets.split(",") if name.strip()}
        unknown = ({source.strip()} | names) - domains
        if unknown:
            raise ValueError(f"allowed names unknown domains: {sorted(unknown)} in {entry!r}")
        allowed.setdefault(source.strip(), set()).update(names)
    return allowed
