"""``make mutate``: mutation testing (mutmut) of the core, one area at a time, with a score per area.

Each area is a few modules and the tests that pin them. It runs in a scratch directory of its own
(``build/mutate/<area>``, a copy of ``src/`` and ``tests/`` with a pyproject of its own), so areas
can run apart, one after the other or alone (``python tools/mutate.py files``), and a run never
touches the checkout. Printed per area: the raw score (killed / mutants tested) and the score once
the mutants that only change a message (a string literal with a space in it: a sentence for a
person, not a code, a field name or a format; or a log call's arguments) are set aside, then the
survivors with their diffs.

Not part of ``make test``: one area takes minutes on two cores.
"""

from __future__ import annotations

import argparse
import difflib
import io
import json
import os
import shutil
import subprocess
import sys
import tokenize
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WORK = ROOT / "build" / "mutate"


@dataclass(frozen=True)
class Area:
    name: str
    modules: tuple[str, ...]  # paths under src/
    tests: tuple[str, ...]  # test files that pin them


AREAS = (
    Area(
        "invoicing",
        ("domain/invoicing/values.py", "domain/invoicing/lines.py", "domain/invoicing/invoices.py",
         "domain/invoicing/clients.py"),
        ("tests/unit/test_invoicing_domain.py", "tests/unit/test_invoicing_limits.py",
         "tests/unit/test_invoicing_properties.py", "tests/unit/test_invoicing_handlers.py",
         "tests/unit/test_invoicing_edges.py"),
    ),
    Area(
        "files",
        ("domain/files/model.py", "application/files/keeping.py"),
        ("tests/unit/test_file_names.py", "tests/unit/test_files_handlers.py", "tests/unit/test_files_properties.py",
         "tests/unit/test_file_edges.py"),
    ),
    Area(
        "deliveries",
        ("domain/shared/delivery.py", "application/deliveries/flows.py"),
        ("tests/unit/test_emails_domain.py", "tests/unit/test_emails_handlers.py",
         "tests/unit/test_whatsapp_domain.py", "tests/unit/test_whatsapp_handlers.py",
         "tests/unit/test_delivery_edges.py"),
    ),
    Area(
        "verifiers",
        ("adapters/webhooks/standard.py", "adapters/webhooks/workos.py", "adapters/webhooks/aurinko.py",
         "adapters/webhooks/whatsapp.py"),
        ("tests/unit/test_webhooks_signatures.py", "tests/unit/test_webhooks_signature_edges.py", "tests/unit/test_aurinko.py",
         "tests/unit/test_whatsapp_handlers.py"),
    ),
    Area(
        "intake",
        ("domain/banking/statements.py", "domain/purchases/invoices.py"),
        ("tests/unit/test_banking_properties.py", "tests/unit/test_intake_values.py", "tests/unit/test_intake_handlers.py",
         "tests/unit/test_intake_robustness.py"),
    ),
    Area(
        "signatures",
        ("domain/signatures/audit.py", "domain/signatures/model.py"),
        ("tests/unit/test_signatures_domain.py",),
    ),
    Area(
        "quickbooks",
        ("domain/integrations/quickbooks/connection.py", "domain/integrations/quickbooks/links.py"),
        ("tests/unit/test_quickbooks.py", "tests/unit/test_quickbooks_tokens.py",
         "tests/unit/test_request_ids_and_attachment_limits.py"),
    ),
    Area(
        "statements",
        ("domain/invoicing/statements.py", "application/invoicing/statements.py"),
        ("tests/unit/test_client_balance.py", "tests/unit/test_invoicing_handlers.py", "tests/unit/test_fiscal_credit_notes.py",
         "tests/unit/test_fiscal_currency.py"),
    ),
    Area(
        "chats",
        ("domain/chats/model.py", "domain/chats/attachments.py", "application/chats/history.py"),
        ("tests/unit/test_chats_domain.py", "tests/unit/test_chats_handlers.py",
         "tests/unit/test_request_ids_and_attachment_limits.py"),
    ),
)

KILLED = {"killed", "timeout", "caught by type check", "segfault"}
NOT_TESTED = {"skipped", "not checked", "check was interrupted by user"}


def _pyproject(area: Area) -> str:
    """The area's own configuration: mutmut's, and pytest's without ``pythonpath`` (mutmut puts
    the mutated copy first on sys.path; the checkout's src/ must not come before it)."""
    listed = lambda items: "[" + ", ".join(json.dumps(item) for item in items) + "]"
    return f"""[tool.mutmut]
source_paths = ["src"]
only_mutate = {listed("src/" + module for module in area.modules)}
pytest_add_cli_args_test_selection = {listed(test for test in area.tests if (ROOT / test).exists())}
pytest_add_cli_args = ["-p", "no:cacheprovider", "-p", "no:xdist", "-W", "ignore::DeprecationWarning"]
use_git_change_detection = false

[tool.pytest.ini_options]
addopts = "-ra --strict-markers"
markers = ["postgres: needs PostgreSQL"]
"""


HYPOTHESIS_PROFILE = '''"""A mutation run's settings. Hypothesis: no deadline (a slow, loaded machine must not kill a
mutant), the same examples on every run, and no shrinking (a failure kills the mutant; its
smallest example is of no use here). Deliveries: the record retry's pauses are virtual (a
mutant that makes every record fail would otherwise wait out the 120 s retry in real time, per test)."""
import time

from hypothesis import Phase, settings

settings.register_profile("mutate", deadline=None, derandomize=True,
                          phases=[Phase.explicit, Phase.reuse, Phase.generate])
settings.load_profile("mutate")


class _VirtualTime:
    def __init__(self) -> None:
        self.offset = 0.0

    def sleep(self, seconds: float) -> None:
        self.offset += seconds

    def monotonic(self) -> float:
        return time.monotonic() + self.offset


def _virtual_record_pauses() -> None:
    from application.deliveries import flows

    clock = _VirtualTime()

    def patch(function: object) -> None:
        defaults = getattr(function, "__kwdefaults__", None)
        if defaults and "sleep" in defaults and "monotonic" in defaults:
            function.__kwdefaults__ = {**defaults, "sleep": clock.sleep, "monotonic": clock.monotonic}

    # the constructor, and under mutmut its wrapper and every variant of it
    for value in list(vars(flows.DeliverHandler).values()):
        patch(value)
        patch(getattr(value, "__wrapped__", None))
    for value in list(vars(flows).values()):
        if isinstance(value, dict):
            for function in value.values():
                patch(function)


_virtual_record_pauses()
'''


def prepare(area: Area) -> Path:
    folder = WORK / area.name
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    ignore = shutil.ignore_patterns("__pycache__", "*.so", "*.source-sha256", ".hypothesis")
    shutil.copytree(ROOT / "src", folder / "src", ignore=ignore)
    shutil.copytree(ROOT / "tests", folder / "tests", ignore=ignore)
    shutil.copytree(ROOT / "tools", folder / "tools", ignore=ignore)
    (folder / "pyproject.toml").write_text(_pyproject(area))
    (folder / "conftest.py").write_text(HYPOTHESIS_PROFILE)
    return folder


def run(area: Area, children: int) -> int:
    folder = prepare(area)
    mutmut = Path(sys.executable).with_name("mutmut")
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    print(f"== {area.name}: mutating {', '.join(area.modules)}", flush=True)
    with (folder / "mutmut.log").open("w") as log:
        done = subprocess.run([str(mutmut), "run", "--max-children", str(children)], check=False, cwd=folder,
                              env=env, stdout=log, stderr=subprocess.STDOUT)
    if done.returncode != 0:
        tail = (folder / "mutmut.log").read_text(errors="replace")[-2000:]
        print(f"   mutmut failed ({done.returncode}), the end of {folder / 'mutmut.log'}:\n{tail}", flush=True)
    return done.returncode


# --- the report (runs inside the area's folder, where mutmut finds its results) --------------


def _message_only(diff: str) -> bool:
    """Whether a mutant changes nothing but a message: a string literal with a space in it (a
    sentence for a person, not a code, a field name or a format) altered, replaced by None or left
    out; or only the arguments of a log call (a line for an operator)."""
    changed = [line[1:].strip() for line in diff.splitlines()
               if line[:1] in "+-" and not line.startswith(("---", "+++"))]
    if changed and all(line.startswith(LOG_CALLS) for line in changed):
        return True
    removed = "\n".join(line[1:] for line in diff.splitlines() if line.startswith("-") and not line.startswith("---"))
    added = "\n".join(line[1:] for line in diff.splitlines() if line.startswith("+") and not line.startswith("+++"))

    def shape(code: str) -> list[str] | None:
        tokens = []
        try:
            for token in tokenize.generate_tokens(io.StringIO(code.strip() + "\n").readline):
                if token.type == tokenize.STRING:
                    tokens.append(MESSAGE if " " in token.string else token.string)
                elif token.type not in (tokenize.NL, tokenize.NEWLINE, tokenize.INDENT, tokenize.DEDENT,
                                        tokenize.COMMENT, tokenize.ENDMARKER):
                    tokens.append(token.string)
        except (tokenize.TokenError, IndentationError, SyntaxError):
            return None
        return tokens

    before, after = shape(removed), shape(added)
    if before is None or after is None or not diff.strip():
        return False
    if before == after:
        return MESSAGE in before  # only the wording of a message changed
    changes = [(before[i1:i2], after[j1:j2]) for op, i1, i2, j1, j2 in
               difflib.SequenceMatcher(a=before, b=after, autojunk=False).get_opcodes() if op != "equal"]
    return all(MESSAGE in old + new and set(old + new) <= {MESSAGE, "None", ","} for old, new in changes)


MESSAGE = "<message>"
LOG_CALLS = ("log.", "bound.", "logger.", "_log(")


def report() -> dict[str, object]:
    from mutmut.mutation.data import SourceFileMutationData
    from mutmut.mutation.diff_apply import get_diff_for_mutant
    from mutmut.stats import status_by_exit_code
    from mutmut.utils.file_utils import walk_mutatable_files

    def zero() -> dict[str, int]:
        return {"mutants": 0, "tested": 0, "killed": 0, "message_only": 0, "message_only_killed": 0}

    counts, modules = zero(), {}
    survivors = []
    for path in walk_mutatable_files():
        data = SourceFileMutationData(path=path)
        data.load()
        module = modules.setdefault(str(path), zero())
        for name, code in data.exit_code_by_key.items():
            status = status_by_exit_code[code]
            diff = get_diff_for_mutant(name, path=path)
            message = _message_only(diff)
            killed = status in KILLED
            for tally in (counts, module):
                tally["mutants"] += 1
                if status in NOT_TESTED:
                    continue
                tally["tested"] += 1
                tally["killed"] += killed
                tally["message_only"] += message
                tally["message_only_killed"] += message and killed
            if status not in NOT_TESTED and not killed:
                survivors.append({"name": name, "status": status, "message_only": message, "diff": diff})
    return {"counts": counts, "modules": modules, "survivors": survivors}


def _percent(part: int, whole: int) -> str:
    return f"{100 * part / whole:.1f} %" if whole else "-"


def summarise(area: Area, *, show: bool) -> dict[str, object]:
    folder = WORK / area.name
    done = subprocess.run([sys.executable, str(Path(__file__).resolve()), "--report-here"], check=False, cwd=folder,
                          capture_output=True, text=True)
    if done.returncode != 0:
        print(f"   {area.name}: no results ({done.stderr[-1000:]})", flush=True)
        return {}
    out = json.loads(done.stdout.strip().splitlines()[-1])
    c = out["counts"]
    kept, kept_killed = c["tested"] - c["message_only"], c["killed"] - c["message_only_killed"]
    print(f"\n== {area.name}: {c['mutants']} mutants, {c['tested']} tested, {c['killed']} killed", flush=True)
    print(f"   raw score                        {_percent(c['killed'], c['tested']):>8}", flush=True)
    print(f"   without message-only mutants     {_percent(kept_killed, kept):>8}"
          f"   ({c['message_only']} message-only, {c['message_only_killed']} of them killed)", flush=True)
    for path, m in sorted(out.get("modules", {}).items()):
        print(f"   {path:<44} {_percent(m['killed'], m['tested']):>8} raw, "
              f"{_percent(m['killed'] - m['message_only_killed'], m['tested'] - m['message_only']):>8} "
              f"without message-only ({m['tested']} tested)", flush=True)
    survivors = [s for s in out["survivors"] if not s["message_only"]]
    print(f"   survivors that change more than a message: {len(survivors)}", flush=True)
    for survivor in survivors:
        print(f"   - {survivor['name']} ({survivor['status']})", flush=True)
        if show:
            for line in survivor["diff"].splitlines()[2:]:
                if line.startswith(("+", "-")):
                    print(f"       {line}", flush=True)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("areas", nargs="*", help=f"areas to run (default all): {', '.join(a.name for a in AREAS)}")
    parser.add_argument("--report-only", action="store_true", help="print the last run's scores, run nothing")
    parser.add_argument("--diffs", action="store_true", help="print each survivor's diff")
    parser.add_argument("--children", type=int, default=os.cpu_count() or 2)
    parser.add_argument("--json", type=Path, help="also write the scores to this file")
    parser.add_argument("--report-here", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.report_here:
        print(json.dumps(report()))
        return
    chosen = [a for a in AREAS if not args.areas or a.name in args.areas]
    unknown = set(args.areas) - {a.name for a in AREAS}
    if unknown:
        parser.error(f"unknown area(s): {', '.join(sorted(unknown))}")
    if not args.report_only:
        for area in chosen:
            run(area, args.children)
    results = {}
    for area in chosen:
        out = summarise(area, show=args.diffs)
        results[area.name] = {"counts": out.get("counts"), "modules": out.get("modules")}
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
