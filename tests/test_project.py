"""Project-level promises: the README's commands, the public API's docs, the typed marker."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import re
from pathlib import Path

import pytest

import clientmodel

ROOT = Path(__file__).resolve().parents[1]


def _readme_commands() -> list[str]:
    text = (ROOT / "README.md").read_text()
    return re.findall(r"```bash\n(.+?)\n```", text)


def test_readme_has_the_two_setup_commands() -> None:
    commands = _readme_commands()
    assert any("clientmodel demo" in c for c in commands)
    assert any("[test]" in c and "pytest" in c for c in commands)


def test_ci_runs_the_readme_test_command() -> None:
    test_command = next(c for c in _readme_commands() if "[test]" in c and "pytest" in c)
    ci = (ROOT / ".ci" / "run").read_text()
    assert test_command in ci.splitlines()


def test_package_ships_py_typed() -> None:
    assert (Path(clientmodel.__file__).parent / "py.typed").exists()


def _public_modules() -> list[str]:
    names = ["clientmodel"]
    for info in pkgutil.walk_packages(clientmodel.__path__, "clientmodel."):
        parts = info.name.split(".")
        if any(p.startswith("_") for p in parts) or parts[-1] == "__main__":
            continue
        names.append(info.name)
    return names


@pytest.mark.parametrize("module_name", _public_modules())
def test_every_public_name_is_documented(module_name: str) -> None:
    if module_name.startswith("clientmodel.plotting"):
        pytest.importorskip("matplotlib")
    module = importlib.import_module(module_name)
    assert module.__doc__, f"{module_name} has no module docstring"
    for name in getattr(module, "__all__", []):
        obj = getattr(module, name)
        if inspect.isfunction(obj) or inspect.isclass(obj):
            assert inspect.getdoc(obj), f"{module_name}.{name} has no docstring"


# -- the docs site renders its formulas ------------------------------------------------------


def _mkdocs_config() -> dict[str, object]:
    import yaml

    class _Loader(yaml.SafeLoader):
        pass

    # mkdocs.yml may use python tags (!!python/name:...); they are irrelevant here.
    _Loader.add_multi_constructor("tag:yaml.org,2002:python/", lambda *_: None)
    loaded = yaml.load((ROOT / "mkdocs.yml").read_text(), Loader=_Loader)
    assert isinstance(loaded, dict)
    return loaded


def test_docs_load_a_math_renderer_that_ships_with_the_docs() -> None:
    # The site once loaded MathJax's configuration but never MathJax itself, so every formula
    # showed as raw TeX. The renderer is vendored (no CDN: readers may be offline).
    config = _mkdocs_config()
    scripts = [str(s) for s in config["extra_javascript"]]  # type: ignore[attr-defined]
    assert any("katex" in s and s.endswith(".js") for s in scripts)
    for asset in [*scripts, *config["extra_css"]]:  # type: ignore[misc]
        assert (ROOT / "docs" / str(asset)).is_file(), asset
    fonts = list((ROOT / "docs" / "javascripts" / "katex" / "fonts").glob("*.woff2"))
    css = (ROOT / "docs" / "javascripts" / "katex" / "katex.min.css").read_text()
    for font in re.findall(r"url\((fonts/[^)]+)\)", css):
        assert (ROOT / "docs" / "javascripts" / "katex" / font).is_file(), font
    assert fonts


def _docs_pages() -> list[Path]:
    return sorted((ROOT / "docs").rglob("*.md"))


# docs/profiles.md (another owner's page) closes its list with un-indented display maths, so the
# next bullet shows as a literal "* intent"; fix: indent the `$$` blocks by four spaces.
_KNOWN_SWALLOWED_LISTS: set[str] = set()


@pytest.mark.parametrize("page", _docs_pages(), ids=lambda p: str(p.relative_to(ROOT / "docs")))
def test_docs_page_leaves_no_stray_dollar(page: Path) -> None:
    # `$$` display maths inside a list item was once left as text ("$E[X(t)] = ...$"): every
    # dollar outside code must end up inside an arithmatex element.
    import markdown

    extensions = []
    configs: dict[str, dict[str, object]] = {}
    for item in _mkdocs_config()["markdown_extensions"]:  # type: ignore[attr-defined]
        if isinstance(item, dict):
            ((name, options),) = item.items()
            extensions.append(name)
            configs[name] = options or {}
        else:
            extensions.append(item)
    source = re.sub(r"^::: .*$", "", page.read_text(), flags=re.M)  # mkdocstrings blocks
    source = re.sub(r"^```.*?^```", "", source, flags=re.M | re.S)  # code, executed or not
    html = markdown.markdown(source, extensions=extensions, extension_configs=configs)
    html = re.sub(r"<(pre|code)\b.*?</\1>", "", html, flags=re.S)
    html = re.sub(r'<(span|div) class="arithmatex">.*?</\1>', "", html, flags=re.S)
    text = re.sub(r"<[^>]+>", "", html)
    stray = [line.strip() for line in text.splitlines() if "$" in line]
    assert not stray, stray
    # A list item swallowed by the paragraph above it shows as a literal "* ".
    if page.name in _KNOWN_SWALLOWED_LISTS:
        pytest.xfail("known: display maths breaks the list (page owned elsewhere)")
    assert not re.search(r"\S \* [`$A-Za-z]", text.replace("\n", " ")), page


def test_api_sections_list_inherited_methods() -> None:
    # BG/NBD and MBG/NBD inherit their methods from a private base: without this option their
    # API sections listed none.
    (plugin,) = [
        p for p in _mkdocs_config()["plugins"] if isinstance(p, dict) and "mkdocstrings" in p
    ]  # type: ignore[attr-defined]
    handler = plugin["mkdocstrings"]["handlers"]["python"]
    assert handler["options"]["inherited_members"] is True


# -- executed documentation ----------------------------------------------------------------------


def test_docs_execute_their_examples_at_build_time():
    # markdown-exec runs the exec="on" blocks during `mkdocs build --strict` (CI): an example
    # that raises aborts the build.
    plugins = _mkdocs_config()["plugins"]
    assert "markdown-exec" in plugins  # type: ignore[operator]
    for page in ("tutorials/b2c.md", "tutorials/b2b.md", "gallery.md"):
        text = (ROOT / "docs" / page).read_text()
        assert text.count('exec="on"') >= 5, page
        assert page in (ROOT / "mkdocs.yml").read_text()


def test_gallery_shows_every_figure_function():
    pytest.importorskip("matplotlib")
    import clientmodel.plotting as plotting

    gallery = (ROOT / "docs" / "gallery.md").read_text()
    missing = [n for n in plotting.__all__ if n.startswith("plot_") and f"{n}(" not in gallery]
    assert not missing


def test_b2c_tutorial_starts_from_the_raw_log_and_warns_about_one_time_buyers():
    text = (ROOT / "docs" / "tutorials" / "b2c.md").read_text()
    assert "cdnow_transactions.csv" in text
    assert "one-time buyers" in text


def test_sphinx_roles_render_as_code_on_the_site():
    # 364 roles such as :func:`~clientmodel.funnel.conversion` were printed literally in the
    # HTML; a griffe extension of the docs build turns each into a code span.
    import importlib.util

    spec = importlib.util.spec_from_file_location(
        "sphinx_roles", ROOT / "docs_tools" / "sphinx_roles.py"
    )
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    text = (
        "See :func:`~clientmodel.funnel.conversion`, :class:`clientmodel.errors.DataError`, "
        ":meth:`.score` and :py:mod:`numpy`."
    )
    assert module.convert(text) == (
        "See `conversion`, `clientmodel.errors.DataError`, `score` and `numpy`."
    )
    assert "docs_tools/sphinx_roles.py:SphinxRoles" in (ROOT / "mkdocs.yml").read_text()
