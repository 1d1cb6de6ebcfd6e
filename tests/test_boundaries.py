"""The boundaries of the code, checked on every import statement (a failure names the file and line).

- The platform (``shared/``) imports no service, no demo, no tool; of the contracts only the directory's
  (every service follows the directory: its copy, the levels' units).
- A service imports only itself, ``shared/`` and ``contracts/``: never another service, the demo, a tool
  or a test.
- A domain (``services/*/domain/``) does no I/O: besides its own package and ``contracts/`` it imports
  only the platform's value modules, pydantic and the standard library.
- Event contracts (``contracts/*.py``) import only the event base, value modules, pydantic, the standard
  library and other contracts.
- Demo seeds live in ``demo/``, not in a service; the contract exporter lives in ``tools/``, not in
  ``shared/``.
"""

import ast
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
FIRST_PARTY = {"shared", "services", "contracts", "demo", "tools", "tests"}
# What a domain may use of the platform: values and rules, no I/O.
DOMAIN_PLATFORM = {
    "shared.aggregate",
    "shared.errors",
    "shared.events",
    "shared.subjects",
    "shared.text",
    "shared.units",
    "shared.identity",
    "shared.numbers",
    "shared.values",
    "shared.evidence",  # for its value types (EvidenceFile, EvidenceFileRef); its store half does I/O
}
CONTRACT_PLATFORM = {
    "shared.events",
    "shared.text",
    "shared.units",
    "shared.numbers",
    "shared.values",
    "shared.evidence",
}
PLATFORM_CONTRACTS = {"contracts.directory"}  # every service follows the directory


def imports(path: Path) -> Iterator[tuple[int, str]]:
    """(line, module) of every import in a file, ``from a.b import c`` giving ``a.b.c`` and ``a.b``."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.lineno, node.module


def third_party(module: str) -> bool:
    top = module.split(".")[0]
    return top not in FIRST_PARTY and top not in sys.stdlib_module_names


Rule = Callable[[str, str], str | None]  # (file relative to the repository, module) → why it is forbidden


def violations(folder: str, rule: Rule, root: Path = REPO) -> list[str]:
    found = []
    for path in sorted((root / folder).rglob("*.py")):
        relative = path.relative_to(root).as_posix()
        for line, module in imports(path):
            reason = rule(relative, module)
            if reason:
                found.append(f"{relative}:{line} imports {module}: {reason}")
    return found


def _within(module: str, package: str) -> bool:
    return module == package or module.startswith(package + ".")


def platform_rule(_file: str, module: str) -> str | None:
    for package in ("services", "demo", "tools", "tests"):
        if _within(module, package):
            return f"the platform never imports {package}"
    if _within(module, "contracts") and module not in PLATFORM_CONTRACTS and module != "contracts":
        return f"the platform follows only {', '.join(sorted(PLATFORM_CONTRACTS))} of the contracts"
    return None


def service_rule(file: str, module: str) -> str | None:
    own = "services." + file.split("/")[1]
    if _within(module, "services") and not _within(module, own) and module != "services":
        return f"a service never imports another service (only shared/ and contracts/); this is {own}"
    for package in ("demo", "tools", "tests"):
        if _within(module, package):
            return f"a service never imports {package}"
    return None


def domain_rule(file: str, module: str) -> str | None:
    if "/domain/" not in file:
        return None
    own = "services." + file.split("/")[1] + ".domain"
    if _within(module, own) or _within(module, "contracts"):
        return None
    if _within(module, "shared"):
        allowed = any(_within(module, value) for value in DOMAIN_PLATFORM)
        return None if allowed else f"a domain uses only {', '.join(sorted(DOMAIN_PLATFORM))} of shared/"
    if _within(module, "services"):
        return "a domain imports only its own domain"
    if third_party(module) and not (_within(module, "pydantic") or _within(module, "pydantic_core")):
        return "a domain imports no library but pydantic (no I/O)"
    return None


def contract_rule(_file: str, module: str) -> str | None:
    if _within(module, "contracts") or any(_within(module, value) for value in CONTRACT_PLATFORM):
        return None
    if any(_within(module, p) for p in ("shared", "services", "demo", "tools", "tests")):
        return f"a contract imports only {', '.join(sorted(CONTRACT_PLATFORM))} and other contracts"
    if third_party(module) and not (_within(module, "pydantic") or _within(module, "pydantic_core")):
        return "a contract imports no library but pydantic"
    return None


def test_the_platform_imports_no_service_demo_or_tool() -> None:
    assert violations("shared", platform_rule) == []


def test_a_service_imports_only_itself_the_platform_and_the_contracts() -> None:
    assert violations("services", service_rule) == []


def test_a_domain_does_no_io() -> None:
    assert violations("services", domain_rule) == []


def test_contracts_import_only_the_event_base_and_each_other() -> None:
    assert violations("contracts", contract_rule) == []


def test_demo_seeds_live_with_the_local_run_and_the_exporter_in_tools() -> None:
    seeds = sorted(p.relative_to(REPO).as_posix() for p in (REPO / "services").rglob("*demo*"))
    assert seeds == [], f"demo seeds inside a service: {seeds} (they belong in demo/)"
    exporters = [
        p.relative_to(REPO).as_posix()
        for p in (REPO / "shared").rglob("*.py")
        if "def openapi_documents" in p.read_text(encoding="utf-8")
    ]
    assert exporters == [], f"the contract exporter lives in tools/, not in {exporters}"
    assert (REPO / "tools" / "contracts.py").is_file()


def test_a_forbidden_import_is_named_with_its_file_and_line(tmp_path: Path) -> None:
    adapters = tmp_path / "services" / "registry" / "domain"
    adapters.mkdir(parents=True)
    (adapters / "rules.py").write_text(
        "import os\nfrom services.directory.adapters.records import members\nimport sqlalchemy\n", encoding="utf-8"
    )
    assert violations("services", service_rule, tmp_path) == [
        "services/registry/domain/rules.py:2 imports services.directory.adapters.records: a service never imports "
        "another service (only shared/ and contracts/); this is services.registry"
    ]
    assert [v.split(": ", 1)[0] for v in violations("services", domain_rule, tmp_path)] == [
        "services/registry/domain/rules.py:2 imports services.directory.adapters.records",
        "services/registry/domain/rules.py:3 imports sqlalchemy",
    ]
