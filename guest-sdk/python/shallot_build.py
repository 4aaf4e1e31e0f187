#!/usr/bin/env python3
"""Builds a Python module into a Shallot component.

Run with: python3 guest-sdk/python/shallot_build.py app.py -o app.wasm

It reads ``app.py`` (without running it) to find what it defines:

- a class with any of ``process_request``, ``process_view``,
  ``process_exception``, ``process_template_response``,
  ``process_response``: a middleware exporting exactly those hooks;
- a function decorated with ``@view``: a view;
- a function decorated with ``@context_processor``: a context processor
  (``[[templates.context_processors]]``);
- a module-level ``register = Library()`` with filters registered on it
  (``@register.filter``): a filter component (``[[templates.filters]]``),
  whose filters are the ones registered when the module has run.

A module is one of these.

Then it writes a WIT world with those exports and a small glue module, and
runs componentize-py (pinned in requirements.txt) over them.
"""

import argparse
import ast
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

HOOKS = [
    "process_request",
    "process_view",
    "process_exception",
    "process_template_response",
    "process_response",
]
HERE = Path(__file__).resolve().parent
DEFAULT_WIT = HERE.parent.parent / "wit"
PACKAGE = "shallot:http@0.1.0"
COMPONENTIZE_PY = "componentize-py==0.25.0"


class BuildError(Exception):
    pass


def _decorator_name(deco):
    """`view` for ``@view``, ``@shallot.view`` and ``@view(...)``."""
    if isinstance(deco, ast.Call):
        deco = deco.func
    return deco.attr if isinstance(deco, ast.Attribute) else getattr(deco, "id", None)


def _libraries(tree):
    """The module-level names bound to ``Library()`` (``shallot.Library()``,
    ``template.Library()``)."""
    names = []
    for node in tree.body:
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Call):
            if _decorator_name(node.value) == "Library":
                names += [t.id for t in node.targets if isinstance(t, ast.Name)]
    return names


def _filter_call(node, libraries):
    """(library, call or None) when ``node`` is ``lib.filter`` or
    ``lib.filter(...)`` on one of ``libraries``."""
    call = node if isinstance(node, ast.Call) else None
    func = node.func if call else node
    if (
        isinstance(func, ast.Attribute)
        and func.attr == "filter"
        and isinstance(func.value, ast.Name)
        and func.value.id in libraries
    ):
        return func.value.id, call
    return None


def _filter_name(call, default):
    """The name a ``filter(...)`` call gives, when it is written out."""
    if call is not None:
        for kw in call.keywords:
            if kw.arg == "name" and isinstance(kw.value, ast.Constant):
                return kw.value.value
        if call.args and isinstance(call.args[0], ast.Constant):
            return call.args[0].value
        if call.args and isinstance(call.args[0], ast.Name):
            return call.args[0].id  # register.filter(func)
    return default


def find_target(source, path):
    """(kind, name, hooks): the middleware class and its hooks, the view
    function, the context processor function, or the filter library and
    the filter names written in the source."""
    tree = ast.parse(source, filename=str(path))
    libraries = _libraries(tree)
    middleware = []
    views = []
    processors = []
    filters = {}  # library -> filter names
    for node in tree.body:
        if isinstance(node, ast.ClassDef):
            hooks = [
                item.name
                for item in node.body
                if isinstance(item, ast.FunctionDef) and item.name in HOOKS
            ]
            if hooks:
                middleware.append((node.name, hooks))
        elif isinstance(node, ast.FunctionDef):
            for deco in node.decorator_list:
                registered = _filter_call(deco, libraries)
                if registered:
                    lib, call = registered
                    filters.setdefault(lib, []).append(_filter_name(call, node.name))
                elif _decorator_name(deco) == "view":
                    views.append(node.name)
                elif _decorator_name(deco) == "context_processor":
                    processors.append(node.name)
        elif isinstance(node, ast.Expr) and isinstance(node.value, ast.Call):
            registered = _filter_call(node.value, libraries)
            if registered:  # register.filter("name", func)
                lib, call = registered
                filters.setdefault(lib, []).append(_filter_name(call, "?"))
    found = (
        [f"class {n}" for n, _ in middleware]
        + [f"@view {v}" for v in views]
        + [f"@context_processor {p}" for p in processors]
        + [f"Library {lib}" for lib in filters]
    )
    if len(found) > 1:
        raise BuildError(
            f"{path}: defines {', '.join(found)}; a component is one middleware, one view, "
            "one context processor or one filter Library"
        )
    if middleware:
        name, hooks = middleware[0]
        return "middleware", name, sorted(hooks, key=HOOKS.index)
    if views:
        return "view", views[0], []
    if processors:
        return "context processor", processors[0], []
    if filters:
        lib, names = next(iter(filters.items()))
        return "filters", lib, names
    if libraries:
        raise BuildError(f"{path}: the Library {libraries[0]} registers no filter (@{libraries[0]}.filter)")
    raise BuildError(
        f"{path}: defines no middleware (a class with any of {', '.join(HOOKS)}), "
        "no @view function, no @context_processor function and no filter Library "
        "(register = Library() with @register.filter)"
    )


EXPORTS = {
    "view": ["view", "body-source"],
    "context processor": ["context-processor"],
    "filters": ["template-filters"],
}


CAPABILITIES = {"sql": "sql"}  # SDK module -> the interface it imports


def capabilities(source):
    """The capability interfaces the source uses, by importing their SDK
    module (``from shallot import sql``, ``import shallot.sql``,
    ``from shallot.sql import connect``): only those are imported, so a
    component needs a grant only for what it uses."""
    used = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom) and node.module == "shallot":
            used.update(a.name for a in node.names if a.name in CAPABILITIES)
        elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("shallot."):
            used.add(node.module.split(".", 1)[1])
        elif isinstance(node, ast.Import):
            used.update(a.name.split(".", 1)[1] for a in node.names if a.name.startswith("shallot."))
    return sorted(CAPABILITIES[u] for u in used if u in CAPABILITIES)


def world(kind, hooks, imports=()):
    exports = EXPORTS.get(kind) or [h.replace("_", "-") for h in hooks]
    lines = ["package shallot:python-guest;", "", "world guest {", f"    include {PACKAGE.replace('@', '/imports@')};"]
    lines += [f"    import {PACKAGE.replace('@', '/' + i + '@')};" for i in imports]
    lines += [f"    export {PACKAGE.replace('@', '/' + e + '@')};" for e in exports]
    lines.append("}")
    return "\n".join(lines) + "\n"


def glue(module, kind, name, hooks):
    lines = [
        "# Generated by shallot_build.py: binds the user's code to the exports.",
        "from wit_world import exports",
        "from shallot import _glue",
        f"import {module} as _user",
        "",
    ]
    if kind == "view":
        lines += [
            f"_glue.bind(_user.{name})",
            "",
            "class View(exports.View):",
            "    def handle(self, req, info):",
            "        return _glue.handle(req, info)",
            "",
            "class BodySource(exports.BodySource):",
            "    def next_chunk(self, source):",
            "        return _glue.next_chunk(source)",
        ]
    elif kind == "context processor":
        lines += [
            f"_glue.bind(_user.{name})",
            "",
            "class ContextProcessor(exports.ContextProcessor):",
            "    def context(self, req):",
            "        return _glue.context(req)",
        ]
    elif kind == "filters":
        lines += [
            f"_glue.bind_library(_user.{name}, {name!r})",
            "",
            "class TemplateFilters(exports.TemplateFilters):",
            "    def names(self):",
            "        return _glue.filter_names()",
            "",
            "    def apply(self, name, value, args):",
            "        return _glue.apply_filter(name, value, args)",
        ]
    else:
        lines += [f"_glue.bind(_user.{name}())", ""]
        args = {
            "process_request": "req",
            "process_view": "req, info",
            "process_exception": "req, err",
            "process_template_response": "req, resp",
            "process_response": "req, resp",
        }
        for hook in hooks:
            cls = "".join(part.title() for part in hook.split("_"))
            lines += [
                f"class {cls}(exports.{cls}):",
                f"    def {hook}(self, {args[hook]}):",
                f"        return _glue.{hook}({args[hook]})",
                "",
            ]
    return "\n".join(lines) + "\n"


def componentize_py():
    # Beside this interpreter first (a venv that was not activated).
    beside = Path(sys.executable).parent / "componentize-py"
    exe = str(beside) if beside.exists() else shutil.which("componentize-py")
    if exe:
        return [exe]
    raise BuildError(
        "componentize-py is not installed: pip install "
        f"'{COMPONENTIZE_PY}' (guest-sdk/python/requirements.txt)"
    )


def build(app, out, wit):
    app = Path(app).resolve()
    source = app.read_text()
    kind, name, hooks = find_target(source, app)
    module = app.stem
    with tempfile.TemporaryDirectory(prefix="shallot-py-") as tmp:
        tmp = Path(tmp)
        (tmp / "wit" / "deps").mkdir(parents=True)
        shutil.copytree(wit, tmp / "wit" / "deps" / "shallot-http")
        (tmp / "wit" / "guest.wit").write_text(world(kind, hooks, capabilities(source)))
        (tmp / "shallot_component.py").write_text(glue(module, kind, name, hooks))
        cmd = componentize_py() + [
            "-d", str(tmp / "wit"),
            "-w", "shallot:python-guest/guest",
            "componentize", "shallot_component",
            "-p", str(tmp), "-p", str(HERE), "-p", str(app.parent),
            "-o", str(Path(out).resolve()),
        ]
        env = dict(os.environ, PYTHONDONTWRITEBYTECODE="1")
        done = subprocess.run(cmd, capture_output=True, text=True, env=env)
        if done.returncode != 0:
            raise BuildError(f"componentize-py failed for {app}:\n{done.stdout}{done.stderr}")
    exported = ", ".join(hooks) if hooks else EXPORTS[kind][0]
    return f"{out}: {kind} {name} ({exported})"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("app", help="the Python file defining the middleware, view, context processor or filters")
    parser.add_argument("-o", "--output", required=True, help="the component to write")
    parser.add_argument("--wit", default=os.environ.get("SHALLOT_WIT", DEFAULT_WIT), help="the shallot:http WIT folder")
    args = parser.parse_args()
    try:
        print(build(args.app, args.output, Path(args.wit)))
    except BuildError as e:
        print(f"error: {e}", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
