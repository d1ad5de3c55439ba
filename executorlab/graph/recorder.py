"""Record the calls of a plot-mode executor and turn them into executorlib's dependency graph."""

import inspect
import os
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Callable, Optional

from executorlab.futures import FutureSelector, TaskFuture
from executorlab.graph import formats, workflow
from executorlab.graph.labels import container_label, long_value, short_label
from executorlab.graph.model import Edge, Graph, Node

GET_LIST = "python_workflow_definition.shared.get_list"
GET_DICT = "python_workflow_definition.shared.get_dict"


@dataclass
class _Call:
    fn: Callable
    label: Optional[str]
    arguments: list  # [(edge label, value)]


def plot_recorder(plot_dependency_graph: bool, plot_dependency_graph_filename: Optional[str],
                  export_workflow_filename: Optional[str]) -> Optional["GraphRecorder"]:
    """The recorder of an executor in plot mode, None when the executor should run its calls."""
    if not plot_dependency_graph and plot_dependency_graph_filename is None and export_workflow_filename is None:
        return None
    return GraphRecorder(plot_dependency_graph_filename, export_workflow_filename)


class GraphRecorder:
    """Stands in for the bridge: each call is remembered, its future resolved to None at once."""

    def __init__(self, filename: Optional[str] = None, workflow_filename: Optional[str] = None):
        self.workflow_filename = os.path.abspath(workflow_filename) if workflow_filename is not None else None
        self.filename = None
        if workflow_filename is None and filename is not None:
            # Fail before any cell ran rather than when the with-block ends.
            formats.check_filename(filename)
            self.filename = os.path.abspath(filename)
        self._calls: list = []
        self._call_of_future: dict = {}

    def record(self, fn: Callable, args: tuple, kwargs: dict, label: Optional[str] = None,
               future: Optional[TaskFuture] = None) -> TaskFuture:
        future = future if future is not None else TaskFuture()
        future.label = label
        self._call_of_future[future] = len(self._calls)
        self._calls.append(_Call(fn, label, _arguments(fn, args, kwargs)))
        if not future.done():
            future.set_result(None)
        return future

    def graph(self) -> Graph:
        return _Builder(self._calls, self._call_of_future).build()

    def finish(self) -> None:
        """Write the workflow or graph file, or show the graph in the notebook (executorlib's __exit__)."""
        graph = self.graph()
        if self.workflow_filename is not None:
            workflow.write_workflow(graph, self.workflow_filename)
        elif self.filename is not None:
            formats.write_graph(graph, self.filename)
        else:
            formats.display_graph(graph)


def _arguments(fn: Callable, args: tuple, kwargs: dict) -> list:
    """(label, value) per argument: the parameter's name, as executorlib labels its edges."""
    try:
        bound = inspect.signature(fn).bind(*args, **kwargs)
    except (TypeError, ValueError):  # no signature (some builtins) or a call that would fail anyway
        return [(str(i), value) for i, value in enumerate(args)] + list(kwargs.items())
    parameters = inspect.signature(fn).parameters
    arguments = []
    position = 0
    for name, value in bound.arguments.items():
        kind = parameters[name].kind
        if kind is inspect.Parameter.VAR_POSITIONAL:
            # Flattened so futures among *args still become edges; labelled by their place in the call.
            arguments.extend((str(position + i), item) for i, item in enumerate(value))
        elif kind is inspect.Parameter.VAR_KEYWORD:
            arguments.extend(value.items())
        else:
            arguments.append((name, value))
        if kind in (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD):
            position += 1
    return arguments


def _function_path(fn: Callable) -> tuple:
    name = getattr(fn, "__name__", None) or type(fn).__name__
    module = getattr(fn, "__module__", None) or type(fn).__module__
    return name, f"{module}.{name}"


class _Builder:
    """executorlib's node and edge rules: calls first (ids in submission order), then inputs and containers."""

    def __init__(self, calls: list, call_of_future: dict):
        self.calls = calls
        self.call_of_future = call_of_future
        self.graph = Graph()
        self.input_of_text: dict = {}

    def build(self) -> Graph:
        for index, call in enumerate(self.calls):
            name, path = _function_path(call.fn)
            self.graph.nodes.append(Node(index, "function", call.label or name, path))
        for index, call in enumerate(self.calls):
            for label, value in call.arguments:
                self.add(value, index, str(label))
        return self.graph

    def is_link(self, value) -> bool:
        """A future, or a container that gets its own node because futures are inside."""
        if isinstance(value, Future):
            return True
        if isinstance(value, (list, tuple)):
            return any(self.is_link(item) for item in value)
        if isinstance(value, dict):
            return any(self.is_link(item) for item in value.values())
        return False

    def add(self, value, target: int, label: str) -> None:
        if isinstance(value, Future):
            source = self.source_of(value)
            if source is not None:
                self.graph.edges.append(Edge(source[0], target, label, source[1]))
                return
            value = _foreign_value(value)
        if isinstance(value, (list, tuple, dict)) and self.is_link(value):
            node = self.new_node("dict" if isinstance(value, dict) else "list",
                                 container_label(value, self.is_link),
                                 GET_DICT if isinstance(value, dict) else GET_LIST)
            self.graph.edges.append(Edge(node, target, label))
            if isinstance(value, dict):
                # executorlib links every value of such a dict, literals included.
                for key, item in value.items():
                    self.add(item, node, str(key))
            else:
                for i, item in enumerate(value):
                    if self.is_link(item):
                        self.add(item, node, str(i))
            return
        text = str(value)
        if text not in self.input_of_text:  # executorlib's dedup: equal str(), one node
            self.input_of_text[text] = self.new_node("input", short_label(value), long_value(value), name=label,
                                                     raw=value)
        self.graph.edges.append(Edge(self.input_of_text[text], target, label))

    def source_of(self, future: Future) -> Optional[tuple]:
        """(call node, selector label) of a future this executor returned, possibly through selectors."""
        selectors = []
        while future not in self.call_of_future and isinstance(future, FutureSelector):
            selectors.append(future.selector)
            future = future.future
        if future not in self.call_of_future:
            return None
        selector = "/".join(str(s) for s in reversed(selectors)) if selectors else None
        return self.call_of_future[future], selector

    def new_node(self, kind: str, label: str, value: str, **extra) -> int:
        node_id = len(self.graph.nodes)
        self.graph.nodes.append(Node(node_id, kind, label, value, **extra))
        return node_id


class _Pending:
    """The input drawn for a future of some other executor that has no result yet."""

    def __init__(self, future: Future):
        self.future = future

    def __str__(self) -> str:
        return f"Future({id(self.future):#x})"

    __repr__ = __str__


def _foreign_value(future: Future):
    """A future not from this executor is an input: its result when it has one."""
    if future.done() and not future.cancelled() and future.exception() is None:
        return future.result()
    return _Pending(future)
