"""The domain imports only the standard library and msgspec.

import-linter forbids the packages it knows of; this test allows only these, so a new one is caught too.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import jyntrix_domain

ALLOWED = set(sys.stdlib_module_names) | {"msgspec", "jyntrix_domain", "__future__"}


def imported_roots(path: Path) -> set[str]:
    roots = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            roots.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            roots.add(node.module.split(".")[0])
    return roots


def test_domain_modules_import_only_stdlib_and_msgspec() -> None:
    package = Path(jyntrix_domain.__file__).parent
    modules = sorted(package.rglob("*.py"))
    assert len(modules) > 10
    offenders = {str(m.relative_to(package)): sorted(imported_roots(m) - ALLOWED) for m in modules}
    assert {name: bad for name, bad in offenders.items() if bad} == {}
