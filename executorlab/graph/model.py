"""The recorded graph: nodes and edges, and the JSON payload the notebook renderer draws."""

from dataclasses import dataclass, field
from typing import Any, Optional

PAYLOAD_VERSION = 1


@dataclass
class Node:
    id: int
    kind: str  # "function", "input", "list" or "dict"
    label: str
    value: str  # function/container: "module.name"; input: its repr
    name: Optional[str] = None  # input: the parameter of its first use (the workflow export's "name")
    raw: Any = None  # input: the value itself, for the workflow export


@dataclass
class Edge:
    source: int
    target: int
    label: str
    source_label: Optional[str] = None


@dataclass
class Graph:
    nodes: list = field(default_factory=list)
    edges: list = field(default_factory=list)

    def count(self, kind: str) -> int:
        return sum(1 for node in self.nodes if node.kind == kind)

    def payload(self) -> dict:
        return {
            "version": PAYLOAD_VERSION,
            "nodes": [{"id": n.id, "kind": n.kind, "label": n.label, "value": n.value} for n in self.nodes],
            "edges": [
                {"source": e.source, "target": e.target, "label": e.label, "source_label": e.source_label}
                for e in self.edges
            ],
        }

    def summary(self) -> str:
        return (
            f"<dependency graph: {self.count('function')} calls, {self.count('input')} inputs, "
            f"{len(self.edges)} edges>"
        )
