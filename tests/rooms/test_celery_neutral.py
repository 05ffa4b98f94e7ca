"""Rooms brings no Celery app of its own: its tasks are shared tasks that the site's app
discovers (the reference site's is config/celery.py), and no module of the package creates an
app or makes one current when it is imported (issue 13)."""

from __future__ import annotations

import ast
from pathlib import Path

from celery import current_app

from rooms import tasks

ROOMS = Path(__file__).resolve().parents[2] / "rooms"


def _calls(tree: ast.AST) -> list[str]:
    names = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            func = node.func
            if isinstance(func, ast.Name):
                names.append(func.id)
            elif isinstance(func, ast.Attribute):
                names.append(func.attr)
    return names


def test_no_module_of_the_package_creates_or_installs_a_celery_app() -> None:
    offenders = []
    for path in ROOMS.rglob("*.py"):
        tree = ast.parse(path.read_text(), filename=str(path))
        for name in _calls(tree):
            if name in {"Celery", "set_current", "set_default"}:
                offenders.append(f"{path.relative_to(ROOMS.parent)}: {name}()")
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module == "celery":
                imported = {alias.name for alias in node.names}
                if imported & {"Celery", "current_app"}:
                    offenders.append(f"{path.relative_to(ROOMS.parent)}: imports {imported}")
    assert offenders == []


def test_every_task_is_a_shared_task_of_the_sites_app() -> None:
    tree = ast.parse(Path(tasks.__file__).read_text())
    functions = [n for n in tree.body if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)]
    assert functions
    for function in functions:
        decorators = [
            d.func.id if isinstance(d, ast.Call) and isinstance(d.func, ast.Name) else None
            for d in function.decorator_list
        ]
        assert decorators == ["shared_task"], function.name
    # Here the reference site's app (config/celery.py) is the current one and runs them.
    for function in functions:
        task = getattr(tasks, function.name)
        assert task.app is current_app._get_current_object()
        assert task.name in current_app.tasks
