"""Everything a user can set, run or read about is documented (datasette's tests/test_docs.py
habit): the lists come from the code itself, so a new environment variable, command-line option,
metric or setting fails here until README.md, docs/*.md or data/README.md explain it. And what the
README tells a newcomer stays true: its example links name what the sample holds, its links lead
to files and headings that exist, and CI runs its test command."""

from __future__ import annotations

import argparse
import ast
import re
import tomllib
from pathlib import Path
from urllib.parse import unquote_plus

import pytest

from reemploy import cli, definitions, synthetic

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md")), ROOT / "data" / "README.md"]
DATA_DICTIONARY = ROOT / "data" / "README.md"
STREAMLIT_CONFIG = ROOT / ".streamlit" / "config.toml"
# The code that runs the app and the commands (reemploy/ may hold packages: rglob).
SOURCES = [ROOT / "dashboard.py", *sorted((ROOT / "pages").glob("*.py")),
           *sorted((ROOT / "reemploy").rglob("*.py"))]
# What a reader of the repository reads: the docs, the code's docstrings and comments, the
# requirements, the settings and the SQL. Not tests/, whose strings are attacks on purpose.
READ_BY_PEOPLE = [*DOCS, *SOURCES, *sorted((ROOT / "scripts").glob("*.py")),
                  *sorted((ROOT / "queries").rglob("*.sql")), *sorted(ROOT.glob("requirements*.txt")),
                  STREAMLIT_CONFIG]


def docs_text() -> str:
    return "\n".join(path.read_text(encoding="utf-8") for path in DOCS)


def mentions(text: str, word: str) -> bool:
    """`word` in `text` as a whole word (an option as a whole option: --data is not --data-dir)."""
    return re.search(rf"(?<![\w-]){re.escape(word)}(?![\w-])", text) is not None


def where(path: Path, node: ast.AST) -> str:
    return f"{path.relative_to(ROOT)}:{node.lineno}"


# --------------------------------------------------------------------------- environment variables


def _string_constants(trees: dict[Path, ast.Module]) -> dict[str, set[str]]:
    """NAME -> the strings assigned to NAME anywhere in the sources (DATA_ENV_VAR = "...")."""
    constants: dict[str, set[str]] = {}
    for tree in trees.values():
        for node in ast.walk(tree):
            if isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant) \
                    and isinstance(node.value.value, str):
                for target in node.targets:
                    if isinstance(target, ast.Name):
                        constants.setdefault(target.id, set()).add(node.value.value)
    return constants


def _is_environ(node: ast.AST) -> bool:
    return (isinstance(node, ast.Attribute) and node.attr == "environ") or \
        (isinstance(node, ast.Name) and node.id == "environ")


def _env_keys(tree: ast.Module):
    """The key expressions of every read of the environment: os.environ.get(K), os.environ[K],
    os.getenv(K), K in os.environ."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and node.args:
            func = node.func
            if (isinstance(func, ast.Attribute) and func.attr == "get" and _is_environ(func.value)) \
                    or (isinstance(func, ast.Attribute) and func.attr == "getenv") \
                    or (isinstance(func, ast.Name) and func.id == "getenv"):
                yield node, node.args[0]
        elif isinstance(node, ast.Subscript) and isinstance(node.ctx, ast.Load) and _is_environ(node.value):
            yield node, node.slice
        elif isinstance(node, ast.Compare) and len(node.ops) == 1 and isinstance(node.ops[0], ast.In) \
                and _is_environ(node.comparators[0]):
            yield node, node.left


# "set the environment variable BROWSER_PATH", "($BROWSER_PATH first ...)": variables the code
# tells people about, read by a library it calls (kaleido reads BROWSER_PATH).
_TOLD = re.compile(r"environment variable `?([A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+)\b|\$([A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+)\b")


def environment_variables() -> dict[str, list[str]]:
    """Every environment variable the app and the commands read or tell people to set, with
    where."""
    trees = {path: ast.parse(path.read_text(encoding="utf-8"), str(path)) for path in SOURCES}
    constants = _string_constants(trees)
    found: dict[str, list[str]] = {}
    for path, tree in trees.items():
        for node, key in _env_keys(tree):
            if isinstance(key, ast.Constant) and isinstance(key.value, str):
                names = {key.value}
            elif isinstance(key, ast.Name):
                names = constants.get(key.id, set())
            elif isinstance(key, ast.Attribute):
                names = constants.get(key.attr, set())
            else:
                names = set()  # a variable (a loop over settings the code itself sets)
            for name in names:
                found.setdefault(name, []).append(where(path, node))
        for node in ast.walk(tree):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                for match in _TOLD.finditer(node.value):
                    found.setdefault(match.group(1) or match.group(2), []).append(where(path, node))
    return found


def test_every_environment_variable_the_code_reads_is_documented():
    found = environment_variables()
    # The scanner itself: the two the app cannot start without knowing about.
    assert {"REEMPLOY_DATA", "REEMPLOY_MIN_CELL"} <= found.keys(), sorted(found)
    text = docs_text()
    undocumented = {name: places for name, places in sorted(found.items()) if not mentions(text, name)}
    assert undocumented == {}, "environment variables read in the code but in no doc"


# --------------------------------------------------------------------------- metrics and rules


def section(text: str, heading: str) -> str:
    """The text under a `## heading` up to the next heading of that level."""
    match = re.search(rf"^## {re.escape(heading)}\n(.*?)(?=^## |\Z)", text, re.S | re.M)
    assert match, f"no '## {heading}' section"
    return match.group(1)


def test_every_metric_the_about_page_defines_is_in_the_data_dictionary():
    metrics = section(DATA_DICTIONARY.read_text(encoding="utf-8"), "Metrics")
    missing = [key for key in definitions.METRICS if f"`{key}`" not in metrics]
    assert missing == [], "metrics of reemploy/definitions.py without an entry (`key`) under " \
                          "'## Metrics' in data/README.md"


def test_every_rule_the_about_page_states_is_in_the_data_dictionary():
    metrics = section(DATA_DICTIONARY.read_text(encoding="utf-8"), "Metrics")
    missing = [method.label for method in definitions.METHODS.values()
               if f"**{method.label}**" not in metrics]
    assert missing == [], "statistical rules of reemploy/definitions.py (METHODS) not named " \
                          "under '## Metrics' in data/README.md"


# --------------------------------------------------------------------------- the command line


def commands() -> dict[str, list[str]]:
    """Each subcommand of `python -m reemploy` and its long options, from the parser itself."""
    parser = cli.build_parser()
    (subparsers,) = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    return {name: [option for action in sub._actions for option in action.option_strings
                   if option.startswith("--") and option != "--help"]
            for name, sub in subparsers.choices.items()}


def test_every_command_and_option_is_documented():
    found = commands()
    assert {"summary", "import", "export"} <= found.keys()  # the parser was read
    pages = {path: path.read_text(encoding="utf-8") for path in DOCS}
    problems = []
    for command, options in found.items():
        # An option counts where the command is: in a doc that shows `reemploy <command>`.
        about = [text for text in pages.values() if re.search(rf"reemploy {command}\b", text)]
        if not about:
            problems.append(f"`python -m reemploy {command}` is in no doc")
            continue
        problems += [f"{command} {option}" for option in options
                     if not any(mentions(text, option) for text in about)]
    assert problems == [], "commands and options of reemploy/cli.py in no doc"


# --------------------------------------------------------------------------- Streamlit settings


def settings_and_comments() -> list[tuple[str, str, bool]]:
    """(section, key, explained by a comment beside it or in the lines just above) of every
    setting in .streamlit/config.toml."""
    table = tomllib.loads(STREAMLIT_CONFIG.read_text(encoding="utf-8"))
    out, current, comment_above = [], None, False
    for line in STREAMLIT_CONFIG.read_text(encoding="utf-8").splitlines():
        stripped = line.strip()
        if stripped.startswith("["):
            current, comment_above = stripped.strip("[]"), False
        elif stripped.startswith("#"):
            comment_above = True
        elif "=" in stripped:
            key = stripped.split("=", 1)[0].strip()
            out.append((current, key, comment_above or "#" in stripped.split("=", 1)[1]))
            comment_above = False
        else:
            comment_above = False
    assert sorted((s, k) for s, k, _ in out) == sorted((s, k) for s, keys in table.items() for k in keys)
    return out


def test_every_streamlit_setting_is_explained():
    text = docs_text()
    unexplained = [f"[{section_}] {key}" for section_, key, commented in settings_and_comments()
                   if not commented and not mentions(text, key)]
    assert unexplained == [], "settings in .streamlit/config.toml with no comment and no doc"


# --------------------------------------------------------------------------- paths


_RELATIVE = re.compile(r"(?<![\w.~/-])((?:\.\./)+[\w.-]+(?:/[\w.-]+)*)")
_ABSOLUTE = re.compile(r"(?<![\w:/.~-])(/[\w.-]+(?:/[\w.-]+)+)")
_FILE_LIKE = re.compile(r"\.(md|rst|txt|py|toml|sql|json|ya?ml|csv|parquet|ipynb)$")


def paths_outside(path: Path, text: str) -> list[str]:
    """Paths in `text` that lead out of the repository: `../x` escaping it from the file's
    folder, and absolute paths to documents (a .md, .py, ... file) or beside the checkout."""
    found = []
    for match in _RELATIVE.finditer(text):
        target = (path.parent / match.group(1)).resolve()
        if not target.is_relative_to(ROOT):
            found.append(match.group(1))
    for match in _ABSOLUTE.finditer(text):
        target = Path(match.group(1))
        if target.is_relative_to(ROOT):
            continue
        if _FILE_LIKE.search(target.name) or target.is_relative_to(ROOT.parent):
            found.append(match.group(1))
    return found


def test_no_doc_or_docstring_points_outside_the_repository():
    outside = {f"{path.relative_to(ROOT)}": found for path in READ_BY_PEOPLE
               if (found := paths_outside(path, path.read_text(encoding="utf-8")))}
    assert outside == {}, "a reader of the repository cannot open these"


@pytest.mark.parametrize("file, text, expected", [
    ("README.md", "measured (../shared/STACK-NOTES.md)", ["../shared/STACK-NOTES.md"]),
    ("docs/scaling.md", "see ../../shared/DOMAIN.md", ["../../shared/DOMAIN.md"]),
    ("docs/scaling.md", "[the contract](../data/README.md)", []),
    ("reemploy/stats.py", "see /work/shared/DOMAIN.md, Metrics", ["/work/shared/DOMAIN.md"]),
    ("reemploy/bench.py", "`/usr/bin/chromium`, https://host.example/x/y.json, /_stcore/health", []),
])
def test_the_path_check_finds_paths_out_of_the_repository(file, text, expected):
    assert paths_outside(ROOT / file, text) == expected



# --------------------------------------------------------------------------- the README's examples


def example_values(text: str) -> dict[str, list[str]]:
    """The districts and sectors named in example links (`district=X`) and commands
    (`--district X`, quoted or not) of `text`."""
    found: dict[str, list[str]] = {"district": [], "sector": []}
    for key in found:
        for match in re.finditer(rf"[?&]{key}=([^&\s)`]+)", text):
            found[key].append(unquote_plus(match.group(1)))
        for match in re.finditer(rf"--{key}[ =](?:\"([^\"]+)\"|'([^']+)'|([^\s\]`'\"]+))", text):
            value = next(group for group in match.groups() if group is not None)
            if not value.isupper():  # a placeholder: --district D, --sector S
                found[key].append(value)
    return found


def not_in_sample(text: str) -> list[str]:
    holds = {"district": set(synthetic.DISTRICTS), "sector": set(synthetic.PRIOR_SECTORS)}
    return [f"{key}={value}" for key, values in example_values(text).items() for value in values
            if value not in holds[key]]


def test_the_readme_examples_name_what_the_sample_holds():
    text = README.read_text(encoding="utf-8")
    assert example_values(text)["district"], "the README shows no example link or command"
    assert not_in_sample(text) == [], "a newcomer trying these on the built-in sample gets nothing"


@pytest.mark.parametrize("text, expected", [
    ("?district=Tiexi&district=Hualing&sector=textiles", ["district=Tiexi"]),
    ("`--district Baitang --district Hexi --sector coal`", ["district=Hexi", "sector=coal"]),
    ("--sector 'light industry' --sector \"coal mining\" --district D", []),
    ("?district=Nanpo&sector=light+industry", []),
])
def test_the_example_check_finds_what_the_sample_lacks(text, expected):
    assert not_in_sample(text) == expected


# --------------------------------------------------------------------------- links


_LINK = re.compile(r"(?<!!)\[[^\]]*\]\(([^)\s]+)\)|!\[[^\]]*\]\(([^)\s]+)\)")


def heading_anchors(text: str) -> set[str]:
    """The anchors GitHub gives the headings of a Markdown text (outside code blocks)."""
    text = re.sub(r"^```.*?^```", "", text, flags=re.S | re.M)
    anchors = set()
    for heading in re.findall(r"^#+ (.+)$", text, re.M):
        anchors.add(re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-"))
    return anchors


def broken_links(path: Path, text: str) -> list[str]:
    """Links of `text` (a Markdown file at `path`) to files or headings that do not exist."""
    broken = []
    for match in _LINK.finditer(text):
        target = match.group(1) or match.group(2)
        if re.match(r"[a-z][a-z0-9+.-]*:", target):  # http:, https:, mailto:
            continue
        file, _, anchor = target.partition("#")
        linked = (path.parent / file).resolve() if file else path
        if not linked.exists():
            broken.append(target)
        elif anchor and linked.suffix == ".md" and \
                anchor not in heading_anchors(linked.read_text(encoding="utf-8")):
            broken.append(target)
    return broken


def test_every_link_in_the_docs_leads_somewhere():
    broken = {f"{path.relative_to(ROOT)}": found for path in DOCS
              if (found := broken_links(path, path.read_text(encoding="utf-8")))}
    assert broken == {}, "links to files or headings that do not exist"


def test_the_readme_links_every_doc():
    text = README.read_text(encoding="utf-8")
    unlinked = [f"docs/{path.name}" for path in sorted((ROOT / "docs").glob("*.md"))
                if f"](docs/{path.name}" not in text]
    assert unlinked == [], "docs a README reader cannot find"


@pytest.mark.parametrize("text, expected", [
    ("[the contract](data/README.md#importing)", []),
    ("[gone](docs/internals.md)", ["docs/internals.md"]),
    ("[no such heading](docs/performance.md#speed-and-load)", ["docs/performance.md#speed-and-load"]),
    ("[quick start](#quick-start) and [https](https://example.org/x.md)", []),
    ("![Overview page](docs/overview.png) ![none](docs/none.png)", ["docs/none.png"]),
])
def test_the_link_check_finds_broken_links(text, expected):
    assert broken_links(README, text) == expected


# --------------------------------------------------------------------------- the Quick start


def quick_start_commands() -> list[str]:
    """The shell lines of the README's Quick start code blocks."""
    text = section(README.read_text(encoding="utf-8"), "Quick start")
    return [line.strip() for block in re.findall(r"```bash\n(.*?)```", text, re.S)
            for line in block.splitlines() if line.strip() and not line.startswith("#")]


def test_the_quick_start_is_a_venv_and_two_commands():
    commands_ = [c for c in quick_start_commands() if not c.startswith("sudo apt-get")]
    assert commands_ == [
        "python -m venv .venv && . .venv/bin/activate",
        "python -m pip install -r requirements.txt && python -m streamlit run dashboard.py",
        "python -m pip install -r requirements-dev.txt && python -m pytest",
    ]


def test_ci_runs_the_readmes_test_command():
    (test_command,) = [c for c in quick_start_commands() if "pytest" in c]
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    ci_lines = [line.strip() for line in ci.splitlines() if not line.strip().startswith("#")]
    for requirements in re.findall(r"-r (\S+)", test_command):
        assert any(re.search(rf"pip install .*-r {re.escape(requirements)}\b", line)
                   for line in ci_lines), f".ci/run does not install {requirements}"
    assert "python -m pytest" in " ".join(ci_lines)


def requirement_names(path: Path) -> list[str]:
    names = []
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0].strip()
        if line and not line.startswith("-"):
            names.append(re.split(r"[\[=<>!~ ;]", line, maxsplit=1)[0].lower())
    return names


def test_the_test_tools_are_not_in_the_apps_requirements():
    dev = ROOT / "requirements-dev.txt"
    assert dev.read_text(encoding="utf-8").splitlines()[0] == "-r requirements.txt"
    test_only = {"pytest", "pypdf", "playwright", "oidc-provider-mock"}
    assert test_only <= set(requirement_names(dev))
    assert test_only & set(requirement_names(ROOT / "requirements.txt")) == set()
