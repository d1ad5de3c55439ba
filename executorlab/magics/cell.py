"""A notebook cell as a task: which names it reads and assigns, and how a worker runs it.

This module is imported by workers, so it needs nothing but the standard library.
"""

import ast
import builtins
import linecache
from typing import NamedTuple, Optional


class CellNames(NamedTuple):
    """What a cell's code needs from the namespace and gives back to it."""

    reads: list
    assigns: list


class CellResult(NamedTuple):
    """What a worker sends back: the last expression's value, the names the cell assigned, and those it
    could not send (name → why)."""

    value: object
    assigned: dict
    unsent: dict

    def __reduce__(self):
        # The names travel as one pickle (shared objects stay shared); only when that fails are they tried
        # one by one, and those that cannot travel stay on the worker. Pickled once in the usual case.
        import cloudpickle

        unsent = dict(self.unsent)
        try:
            names = cloudpickle.dumps(self.assigned)
        except Exception:
            sendable = {}
            for name, value in self.assigned.items():
                try:
                    cloudpickle.dumps(value)
                except Exception as error:  # an open file, a lock
                    unsent[name] = f"{type(value).__name__}: {error}"
                else:
                    sendable[name] = value
            names = cloudpickle.dumps(sendable)
        return _arrived, (self.value, names, unsent)

    def __repr__(self) -> str:
        # What the cache browser shows of a cell's result.
        return self._describe(repr)

    def __brief__(self) -> str:
        # What the panel shows of a cell's result (executorlab.brief).
        from executorlab.brief import brief

        return self._describe(brief)

    def _describe(self, text) -> str:
        names = f"; assigned {', '.join(self.assigned)}" if self.assigned else ""
        return f"{text(self.value)}{names}"


class _Binder(ast.NodeVisitor):
    """Collects the names a statement binds in the namespace it runs in (not inside functions, classes,
    lambdas or comprehensions, whose names are their own)."""

    def __init__(self):
        self.bound = set()

    def visit_Name(self, name):
        if isinstance(name.ctx, (ast.Store, ast.Del)):
            self.bound.add(name.id)

    def visit_FunctionDef(self, fn):
        self.bound.add(fn.name)
        for decorator in fn.decorator_list:
            self.visit(decorator)

    visit_AsyncFunctionDef = visit_FunctionDef

    def visit_ClassDef(self, cls):
        self.bound.add(cls.name)
        for expr in [*cls.decorator_list, *cls.bases]:
            self.visit(expr)

    def _own_scope(self, _):
        pass

    visit_Lambda = visit_ListComp = visit_SetComp = visit_DictComp = visit_GeneratorExp = _own_scope

    def visit_alias(self, alias):
        if alias.name != "*":
            self.bound.add((alias.asname or alias.name).split(".")[0])

    def visit_ExceptHandler(self, handler):
        if handler.name:
            self.bound.add(handler.name)
        self.generic_visit(handler)


def _arrived(value, names: bytes, unsent: dict) -> CellResult:
    import cloudpickle

    return CellResult(value, cloudpickle.loads(names), unsent)


def _targets(node) -> set:
    binder = _Binder()
    binder.visit(node)
    return binder.bound


def _loads(node) -> set:
    """Names a statement reads, at any depth (functions defined in the cell read globals when called)."""
    read = set()
    for sub in ast.walk(node):
        if isinstance(sub, ast.Name) and isinstance(sub.ctx, ast.Load):
            read.add(sub.id)
        elif isinstance(sub, ast.AugAssign) and isinstance(sub.target, ast.Name):
            read.add(sub.target.id)
    return read


def cell_names(tree: ast.Module) -> CellNames:
    """The names a cell reads before it assigns them (in statement order), and every name it assigns."""
    reads, assigns = [], []
    bound = set()
    for statement in tree.body:
        for name in sorted(_loads(statement) - bound):
            if name not in reads:
                reads.append(name)
        for name in sorted(_targets(statement)):
            if name not in bound:
                bound.add(name)
                assigns.append(name)
    return CellNames(reads, assigns)


def split_last_expression(tree: ast.Module, source: str) -> Optional[ast.Expression]:
    """Take the cell's last statement off as its value when it is an expression (not ended by ';',
    which hides the value in IPython too)."""
    if not tree.body or not isinstance(tree.body[-1], ast.Expr) or source.rstrip().endswith(";"):
        return None
    return ast.Expression(tree.body.pop().value)


def run_cell(source: str, filename: str, inputs: dict, assigns: list) -> CellResult:
    """Run a cell's code on a worker with ``inputs`` as its globals."""
    # Tracebacks of the cell show its lines.
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    namespace = {"__name__": "__main__", "__builtins__": builtins, **inputs}
    tree = ast.parse(source, filename)
    last = split_last_expression(tree, source)
    exec(compile(tree, filename, "exec"), namespace)
    value = eval(compile(last, filename, "eval"), namespace) if last is not None else None
    return CellResult(value, {name: namespace[name] for name in assigns if name in namespace}, {})
