"""The documentation holds together: README.md and docs/*.md link only to what exists.

Every relative link (and image) must name a file of the repository, and every ``#anchor``
into a markdown file must match one of its headings, slugged as GitHub does. README.md
stays a page that starts a user, and names the test command CI runs.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
PAGES = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]
TEST_COMMAND = 'pip install -e ".[dev,ray,tensorboard]" && pytest'
README_MAX_LINES = 250

LINK = re.compile(r"!?\[[^\]]*\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)")
CODE_SPAN = re.compile(r"`[^`]*`")
SCHEME = re.compile(r"^[a-z][a-z0-9+.-]*:", re.IGNORECASE)


def prose_lines(text: str) -> list[str]:
    """The lines outside fenced code blocks, with inline code spans taken out."""
    lines, fenced = [], False
    for line in text.splitlines():
        if line.lstrip().startswith("```"):
            fenced = not fenced
            continue
        if not fenced:
            lines.append(CODE_SPAN.sub(lambda m: m.group(0).strip("`"), line))
    return lines


def slug(heading: str) -> str:
    """GitHub's anchor for a heading: lowercase, punctuation but '-' and '_' dropped,
    spaces turned into '-'."""
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return text.replace(" ", "-")


def anchors(page: Path) -> set[str]:
    """Every heading's anchor in page; a repeated heading gets -1, -2 ... as on GitHub."""
    seen: dict[str, int] = {}
    found = set()
    for line in prose_lines(page.read_text(encoding="utf-8")):
        match = re.match(r"#{1,6}\s+(.*?)\s*#*\s*$", line)
        if not match:
            continue
        base = slug(match.group(1))
        count = seen.get(base, 0)
        seen[base] = count + 1
        found.add(base if count == 0 else f"{base}-{count}")
    return found


def links(page: Path) -> list[str]:
    """The targets of page's links and images, outside code."""
    text = "\n".join(prose_lines(page.read_text(encoding="utf-8")))
    return [target for target in LINK.findall(text) if not SCHEME.match(target)]


def test_the_pages_are_found() -> None:
    names = {page.name for page in PAGES}
    expected = {"README.md", "dashboard.md", "cli.md", "sweeps.md", "run-directory.md"}
    assert expected | {"reliability.md", "benchmarks.md"} <= names


def test_the_slug_follows_githubs_rule() -> None:
    assert slug("The runs list and the comparison (`v`)") == "the-runs-list-and-the-comparison-v"
    assert slug("The lesson's figures: regularization") == "the-lessons-figures-regularization"
    assert slug("The sweep folder and sweep.json") == "the-sweep-folder-and-sweepjson"
    assert slug("`--jobs N` and threads") == "--jobs-n-and-threads"


@pytest.mark.parametrize("page", PAGES, ids=lambda page: page.relative_to(REPO).as_posix())
def test_every_relative_link_resolves(page: Path) -> None:
    broken = []
    for target in links(page):
        path, _, anchor = target.partition("#")
        file = (page.parent / path).resolve() if path else page
        if not file.exists():
            broken.append(f"{target}: no such file")
        elif anchor and file.suffix == ".md" and anchor not in anchors(file):
            broken.append(f"{target}: no heading #{anchor} in {file.name}")
    assert not broken, f"{page.name}: " + "; ".join(broken)


def test_readme_starts_a_user_in_at_most_250_lines() -> None:
    lines = (REPO / "README.md").read_text(encoding="utf-8").splitlines()
    assert len(lines) <= README_MAX_LINES
    assert TEST_COMMAND in lines


def test_ci_runs_readmes_test_command() -> None:
    ci = (REPO / ".ci" / "run").read_text(encoding="utf-8")
    assert f"# README's test command: {TEST_COMMAND}" in ci
