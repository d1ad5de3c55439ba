"""The graph as a file (JSON payload, DOT text, or whatever Graphviz's ``dot`` renders) or in the notebook."""

import functools
import json
import os
import re
import shutil
import subprocess
from typing import Optional

from executorlab.display import GRAPH_MIME
from executorlab.graph.model import Graph

OWN_FORMATS = ("json", "dot")
# What `dot -T` is assumed to know when it is not there to ask; x11/xlib open windows, they write nothing.
COMMON_GRAPHVIZ_FORMATS = ("svg", "png", "pdf", "jpg", "jpeg", "gif", "ps", "eps", "webp", "bmp", "tiff")
_INTERACTIVE = {"x11", "xlib"}


def find_dot() -> Optional[str]:
    found = shutil.which("dot")
    if found is None and os.access("/usr/bin/dot", os.X_OK):
        found = "/usr/bin/dot"
    return found


@functools.lru_cache(maxsize=None)
def _formats_of(dot: str) -> frozenset:
    # `dot -T?` refuses "?" and lists what it knows: 'Use one of: bmp canon ... xlib'.
    try:
        listing = subprocess.run([dot, "-T?"], capture_output=True, text=True, timeout=30).stderr
    except (OSError, subprocess.SubprocessError):
        return frozenset()
    match = re.search(r"Use one of:(.*)", listing, re.S)
    names = match.group(1).split() if match else []
    return frozenset(name.split(":")[0] for name in names) - _INTERACTIVE


def graphviz_formats(dot: Optional[str]) -> frozenset:
    """What ``dot -T`` writes; without ``dot``, the usual formats (so the error says to install it)."""
    return (_formats_of(dot) if dot else frozenset()) or frozenset(COMMON_GRAPHVIZ_FORMATS)


def graphviz_missing(extension: str) -> RuntimeError:
    return RuntimeError(
        f"writing a .{extension} dependency graph needs Graphviz's `dot` command, which was not found: install "
        "Graphviz (e.g. `apt-get install graphviz`, `conda install graphviz` or `brew install graphviz`); "
        ".dot and .json files need nothing"
    )


def extension_of(filename: str) -> str:
    return os.path.splitext(filename)[1][1:].lower()


def check_filename(filename: str) -> str:
    """The file's format (its extension); raises if nothing here can write it."""
    extension = extension_of(filename)
    if extension in OWN_FORMATS:
        return extension
    dot = find_dot()
    formats = graphviz_formats(dot)
    if extension not in formats:
        allowed = ", ".join("." + name for name in (*OWN_FORMATS, *sorted(formats - set(OWN_FORMATS))))
        raise ValueError(
            f"plot_dependency_graph_filename {filename!r}: cannot write a graph with the extension "
            f"{'.' + extension if extension else '(none)'!r}; use one of {allowed}"
        )
    if dot is None:
        raise graphviz_missing(extension)
    return extension


def write_graph(graph: Graph, filename: str) -> None:
    extension = check_filename(filename)
    if extension == "json":
        with open(filename, "w") as file:
            json.dump(graph.payload(), file, indent=2)
    elif extension == "dot":
        with open(filename, "w") as file:
            file.write(to_dot(graph))
    else:
        rendered = render(to_dot(graph), extension)
        with open(filename, "wb") as file:
            file.write(rendered)


def render(dot_text: str, extension: str) -> bytes:
    dot = find_dot()
    if dot is None:
        raise graphviz_missing(extension)
    result = subprocess.run([dot, f"-T{extension}"], input=dot_text.encode(), capture_output=True)
    if result.returncode != 0:
        raise RuntimeError(f"`dot -T{extension}` failed: {result.stderr.decode(errors='replace').strip()}")
    return result.stdout


def _quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


_SHAPES = {"function": "box", "input": "circle", "list": "box", "dict": "box"}


def to_dot(graph: Graph) -> str:
    """executorlib's drawing: boxes for calls and containers, circles for inputs, edges named by parameter."""
    lines = [
        "digraph dependencies {",
        '  node [fontname="Helvetica", fontsize=11];',
        '  edge [fontname="Helvetica", fontsize=9];',
    ]
    for node in graph.nodes:
        lines.append(
            f"  {node.id} [label={_quote(node.label)}, shape={_SHAPES[node.kind]}, tooltip={_quote(node.value)}];"
        )
    for edge in graph.edges:
        attributes = f"label={_quote(edge.label)}"
        if edge.source_label is not None:
            attributes += f", taillabel={_quote(edge.source_label)}"
        lines.append(f"  {edge.source} -> {edge.target} [{attributes}];")
    lines.append("}")
    return "\n".join(lines) + "\n"


def display_graph(graph: Graph) -> None:
    """Show the graph in IPython (the extension's renderer, an SVG, or the summary); elsewhere nothing."""
    try:
        from IPython import get_ipython
    except ImportError:
        return
    if get_ipython() is None:
        return
    from IPython.display import display

    bundle = {GRAPH_MIME: graph.payload()}
    if find_dot() is not None:
        try:
            bundle["image/svg+xml"] = render(to_dot(graph), "svg").decode()
        except RuntimeError:  # the renderer's own drawing still shows
            pass
    bundle["text/plain"] = graph.summary()
    display(bundle, raw=True)
