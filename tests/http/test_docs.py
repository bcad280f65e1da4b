"""docs/ covers what the code serves and reads: every OpenAPI route, every setting with its default; the README
stays short and every link in it and in docs/ leads somewhere."""

from __future__ import annotations

import enum
import re
from pathlib import Path
from typing import Any

import msgspec
import pytest

from jyntrix_bootstrap.environment import section_variables
from jyntrix_bootstrap.settings import SECTIONS, Settings, variable_names
from testsupport.app import served_openapi

REPO = Path(__file__).resolve().parents[2]
DOCS = REPO / "docs"
README = REPO / "README.md"
README_MAX_LINES = 350
HTTP_METHODS = ("get", "put", "post", "patch", "delete")
# A section of docs/api.md is headed by the route as the schema names it: ### `GET /api/memories/{memory_id}`
ROUTE_HEADING = re.compile(r"^### `([A-Z]+) (/\S*)`$", re.M)
SETTING_ROW = re.compile(r"^\| `([A-Z][A-Z0-9_]*)` \| (.*?) \|", re.M)
LINK = re.compile(r"\]\(([^)\s]+)\)")


@pytest.fixture(scope="module")
def openapi(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    return served_openapi(tmp_path_factory.mktemp("docs"))


def served_routes(openapi: dict[str, Any]) -> set[tuple[str, str]]:
    paths: dict[str, dict[str, Any]] = openapi["paths"]
    return {(method.upper(), path) for path, item in paths.items() for method in item if method in HTTP_METHODS}


def test_every_route_of_the_openapi_schema_has_its_section_in_the_api_reference(openapi: dict[str, Any]) -> None:
    documented = set(ROUTE_HEADING.findall((DOCS / "api.md").read_text()))
    served = served_routes(openapi)
    assert sorted(served - documented) == []
    # and no section for a route the schema does not hold (one removed or renamed)
    assert sorted(documented - served) == []


def test_every_route_section_shows_an_example(openapi: dict[str, Any]) -> None:
    api = (DOCS / "api.md").read_text()
    headings = list(ROUTE_HEADING.finditer(api))
    bare = []
    for n, heading in enumerate(headings):
        end = headings[n + 1].start() if n + 1 < len(headings) else len(api)
        if "```" not in api[heading.end() : end]:
            bare.append(f"{heading.group(1)} {heading.group(2)}")
    assert bare == []


def default_of(variable: str) -> Any:
    """The default the code has for an environment variable: a plain setting's, or its section field's."""
    defaults = Settings()
    plain = {f.encode_name: f.name for f in msgspec.structs.fields(Settings)}
    if variable in plain and plain[variable] not in {s.field for s in SECTIONS}:
        return getattr(defaults, plain[variable])
    types = {f.name: f.type for f in msgspec.structs.fields(Settings)}
    for section in SECTIONS:
        field = section_variables(section, types[section.field]).get(variable)
        if field is not None:
            return getattr(getattr(defaults, section.field), field)
    raise KeyError(variable)


def as_written(value: Any) -> str | None:
    """A default as the configuration table writes it, or None for one the table must describe in words."""
    if value is None or value == ():
        return None
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, enum.Enum):
        return str(value.value)
    if isinstance(value, tuple):
        return ",".join(value)
    return str(value)


def same(written: str, value: str) -> bool:
    try:
        return float(written) == float(value)
    except ValueError:
        return written == value


def test_every_setting_has_a_row_with_its_default_in_the_configuration_reference() -> None:
    rows = dict(SETTING_ROW.findall((DOCS / "configuration.md").read_text()))
    assert [name for name in variable_names() if name not in rows] == []
    wrong = []
    for name in variable_names():
        cell, value = rows[name], as_written(default_of(name))
        literal = re.fullmatch(r"`([^`]*)`(?: \([^)]*\))?", cell)  # a value, perhaps said again: `134217728` (128 MiB)
        if value is None:
            # No default value: the cell says what stands in for it ("unset: embedded Postgres"), or a path.
            if literal is not None and "$" not in literal.group(1):
                wrong.append(f"{name}: documented {cell}, the code has none")
        elif literal is not None and not same(literal.group(1), value):
            wrong.append(f"{name}: documented {cell}, the code has {value!r}")
        elif literal is None and len(value) < 80:
            wrong.append(f"{name}: documented {cell!r}, the code has {value!r}")
    assert wrong == []


def test_the_readme_is_at_most_350_lines_and_links_every_reference_page() -> None:
    readme = README.read_text()
    assert len(readme.splitlines()) <= README_MAX_LINES
    linked = {target.split("#")[0] for target in LINK.findall(readme)}
    pages = {f"docs/{page.name}" for page in DOCS.glob("*.md")}
    assert sorted(pages - linked) == []


def anchors(markdown: str) -> set[str]:
    """GitHub's anchors for a page's headings: lower case, punctuation dropped, spaces as hyphens."""
    slugs = set()
    for heading in re.findall(r"^#+ (.+)$", markdown, re.M):
        slug = re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")
        slugs.add(slug)
    return slugs


@pytest.mark.parametrize("page", [README, *sorted(DOCS.glob("*.md"))], ids=lambda p: str(p.relative_to(REPO)))
def test_every_link_leads_to_a_file_and_heading_that_exist(page: Path) -> None:
    text = page.read_text()
    broken = []
    for target in LINK.findall(text):
        if re.match(r"[a-z]+:", target):
            continue  # a web address
        path, _, anchor = target.partition("#")
        file = (page.parent / path).resolve() if path else page
        found = file.exists()
        heading_missing = found and bool(anchor) and file.suffix == ".md" and anchor not in anchors(file.read_text())
        if not found or heading_missing:
            broken.append(target)
    assert broken == []
