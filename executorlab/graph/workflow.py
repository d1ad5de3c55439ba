"""executorlib's export_workflow_filename: the graph in the python-workflow-definition JSON format."""

import json

from executorlab.graph.model import Graph

WORKFLOW_VERSION = "0.1.0"


def _plain(value):
    """numpy values as lists and numbers, the way executorlib writes arrays; anything else as it is."""
    if type(value).__module__ == "numpy":
        tolist = getattr(value, "tolist", None)
        if tolist is not None:
            return tolist()
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(item) for item in value]
    return value


def _refuse(value):
    raise TypeError(
        f"the input {value!r} ({type(value).__name__}) cannot be written to a workflow JSON file: "
        "inputs must be JSON values (numbers, strings, lists, dicts) or numpy arrays"
    )


def workflow_dict(graph: Graph) -> dict:
    nodes = []
    for node in graph.nodes:
        if node.kind == "input":
            nodes.append({"id": node.id, "type": "input", "value": _plain(node.raw), "name": node.name})
        else:  # calls and the get_list/get_dict containers are all functions to the format
            nodes.append({"id": node.id, "type": "function", "value": node.value})
    output = {"id": len(nodes), "type": "output", "name": "result"}
    nodes.append(output)
    edges = [
        {"target": e.target, "targetPort": e.label, "source": e.source, "sourcePort": e.source_label}
        for e in graph.edges
    ]
    # executorlib's rule for the result: the node with the highest id any edge leads to.
    last = max((e["target"] for e in edges), default=None)
    if last is None and len(nodes) > 1:  # calls without inputs: the last call
        last = max(n["id"] for n in nodes if n["type"] == "function")
    if last is not None:
        edges.append({"target": output["id"], "targetPort": None, "source": last, "sourcePort": None})
    return {"version": WORKFLOW_VERSION, "nodes": nodes, "edges": edges}


def write_workflow(graph: Graph, filename: str) -> None:
    text = json.dumps(workflow_dict(graph), indent=4, default=_refuse)
    with open(filename, "w") as file:
        file.write(text)
