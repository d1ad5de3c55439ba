"""Plot mode (plot_dependency_graph & co.): calls are recorded, not run, and drawn or exported at shutdown.

The node and edge counts are those of executorlib's tests/unit/executor/test_single_plot_dependency.py.
"""

import json
import xml.etree.ElementTree as ElementTree

import numpy as np
import pytest

import executorlab.executor as executor_module
from executorlab import executor as ex
from executorlab.client import connection
from executorlab.display import GRAPH_MIME
from executorlab.futures import TaskFuture, get_item_from_future, split_future
from executorlab.graph import formats

PLOT_EXECUTORS = [ex.SingleNodeExecutor, ex.SlurmJobExecutor, ex.FluxJobExecutor, ex.SlurmClusterExecutor,
                  ex.FluxClusterExecutor]


@pytest.fixture(autouse=True)
def no_bridge(monkeypatch, tmp_path):
    """Plot mode must work with no bridge: any attempt to reach one fails the test."""
    monkeypatch.setenv("EXECUTORLAB_CONNECTION_FILE", str(tmp_path / "no-such-bridge.json"))

    def refuse():
        raise AssertionError("plot mode contacted the bridge")

    monkeypatch.setattr(executor_module, "get_client", refuse)
    monkeypatch.chdir(tmp_path)
    client = connection._client
    yield
    assert connection._client is client


def add_function(parameter_1, parameter_2):
    return parameter_1 + parameter_2


def generate_tasks(length):
    return range(length)


def calc_from_lst(lst, ind, parameter):
    return lst[ind] + parameter


def merge(lst):
    return sum(lst)


def return_input_dict(input_dict):
    return input_dict


def get_tuple(i):
    return 1, 2, i


def get_dict(i):
    return {"a": 1, "b": i}


def echo(i):
    return i


def get_prod_and_div(x, y):
    return {"prod": x * y, "div": x / y}


def get_sum(x, y):
    return x + y


def get_square(x):
    return x**2


def touch_and_fail(path):
    open(path, "w").close()
    raise RuntimeError("a plot-mode call ran")


def graph_of(exe):
    return exe._recorder.graph().payload()


def kinds(payload):
    return [node["kind"] for node in payload["nodes"]]


def submit_chain(exe):
    future_1 = exe.submit(add_function, 1, parameter_2=2)
    future_2 = exe.submit(add_function, 1, parameter_2=future_1)
    return future_1, future_2


def submit_many_to_one(exe, length=5, parameter=1):
    future_lst = exe.submit(generate_tasks, length=length, resource_dict={"cores": 1})
    lst = [
        exe.submit(calc_from_lst, lst=future_lst, ind=i, parameter=parameter, resource_dict={"cores": 1})
        for i in range(length)
    ]
    future_sum = exe.submit(merge, lst=lst, resource_dict={"cores": 1})
    return [future_lst, *lst, future_sum]


@pytest.mark.parametrize(
    "make",
    [
        lambda: ex.SingleNodeExecutor(max_cores=1, plot_dependency_graph=True, block_allocation=True),
        lambda: ex.SlurmJobExecutor(max_cores=1, block_allocation=False, plot_dependency_graph=True),
        lambda: ex.SlurmClusterExecutor(plot_dependency_graph=True),
    ],
    ids=["SingleNodeExecutor", "SlurmJobExecutor", "SlurmClusterExecutor"],
)
def test_executor_dependency_plot(make, monkeypatch):
    shown = []
    monkeypatch.setattr(formats, "display_graph", shown.append)
    with make() as exe:
        futures = submit_chain(exe)
        assert all(f.done() and f.result() is None for f in futures)
        payload = graph_of(exe)
    assert len(payload["nodes"]) == 4
    assert len(payload["edges"]) == 4
    assert kinds(payload) == ["function", "function", "input", "input"]
    assert payload["nodes"][0] == {
        "id": 0, "kind": "function", "label": "add_function", "value": f"{__name__}.add_function"
    }
    assert {(e["source"], e["target"], e["label"]) for e in payload["edges"]} == {
        (2, 0, "parameter_1"), (3, 0, "parameter_2"), (2, 1, "parameter_1"), (0, 1, "parameter_2")
    }
    assert len(shown) == 1  # drawn once, at the end of the with block


@pytest.mark.parametrize(
    "make",
    [
        lambda: ex.SingleNodeExecutor(max_cores=2, block_allocation=False, plot_dependency_graph=True),
        lambda: ex.SlurmJobExecutor(max_cores=2, block_allocation=False, plot_dependency_graph=True),
        lambda: ex.SlurmClusterExecutor(plot_dependency_graph=True),
    ],
    ids=["SingleNodeExecutor", "SlurmJobExecutor", "SlurmClusterExecutor"],
)
def test_many_to_one_plot(make):
    with make() as exe:
        futures = submit_many_to_one(exe)
        assert all(f.done() and f.result() is None for f in futures)
        payload = graph_of(exe)
    assert len(payload["nodes"]) == 14
    assert len(payload["edges"]) == 22
    assert kinds(payload).count("function") == 7
    assert kinds(payload).count("input") == 6  # 5, 0, 1 (ind=1 and parameter=1 share a node), 2, 3, 4
    (lst,) = [n for n in payload["nodes"] if n["kind"] == "list"]
    assert lst["label"] == "[$, $, $, $, $]"
    assert lst["value"] == "python_workflow_definition.shared.get_list"
    into_list = sorted(e["label"] for e in payload["edges"] if e["target"] == lst["id"])
    assert into_list == ["0", "1", "2", "3", "4"]
    assert {"source": lst["id"], "target": 6, "label": "lst", "source_label": None} in payload["edges"]


def test_future_input_dict():
    with ex.SingleNodeExecutor(plot_dependency_graph=True) as exe:
        exe.submit(return_input_dict, input_dict={"a": exe.submit(sum, [2, 2])})
        payload = graph_of(exe)
    assert len(payload["nodes"]) == 4
    assert len(payload["edges"]) == 3
    dict_node = next(n for n in payload["nodes"] if n["kind"] == "dict")
    assert dict_node["value"] == "python_workflow_definition.shared.get_dict"
    assert dict_node["label"] == "{a: $}"
    # The inner sum call is submitted first, so it is node 0.
    assert payload["nodes"][0]["value"] == "builtins.sum"
    assert {"source": 0, "target": dict_node["id"], "label": "a", "source_label": None} in payload["edges"]
    assert {"source": dict_node["id"], "target": 1, "label": "input_dict", "source_label": None} in payload["edges"]


def test_split_future():
    with ex.SingleNodeExecutor(plot_dependency_graph=True) as exe:
        f = exe.submit(get_tuple, 5)
        f1, f2, f3 = split_future(future=f, n=3)
        results = [exe.submit(echo, f1), exe.submit(echo, f2), exe.submit(echo, f3)]
        assert [r.result() for r in results] == [None, None, None]
        assert f1.result() is None
        payload = graph_of(exe)
    assert len(payload["nodes"]) == 5
    selector_edges = [e for e in payload["edges"] if e["source"] == 0]
    assert selector_edges == [
        {"source": 0, "target": i + 1, "label": "i", "source_label": str(i)} for i in range(3)
    ]


def test_get_item_from_future():
    with ex.SingleNodeExecutor(plot_dependency_graph=True) as exe:
        f = exe.submit(get_dict, 5)
        f1 = exe.submit(echo, get_item_from_future(future=f, key="a"))
        f2 = exe.submit(echo, get_item_from_future(future=f, key="b"))
        assert f1.result() is None and f2.result() is None
        payload = graph_of(exe)
    assert [e for e in payload["edges"] if e["source"] == 0] == [
        {"source": 0, "target": 1, "label": "i", "source_label": "a"},
        {"source": 0, "target": 2, "label": "i", "source_label": "b"},
    ]


@pytest.mark.parametrize("cls", PLOT_EXECUTORS, ids=lambda cls: cls.__name__)
def test_nothing_runs_and_no_bridge_is_needed(cls, tmp_path):
    marker = tmp_path / "ran"
    with cls(plot_dependency_graph_filename=str(tmp_path / "graph.json")) as exe:
        future = exe.submit(touch_and_fail, str(marker), resource_dict={"cores": 4, "anything": "as-is"})
        assert isinstance(future, TaskFuture)
        assert future.done() and future.result() is None and future.task_id is None
        assert exe._client is None
    assert not marker.exists()
    assert json.loads((tmp_path / "graph.json").read_text())["nodes"][0]["label"] == "touch_and_fail"


def test_filename_alone_switches_plot_mode_on(tmp_path):
    graph_file = tmp_path / "test.png"
    with ex.SingleNodeExecutor(
        max_cores=1, plot_dependency_graph=False, plot_dependency_graph_filename=str(graph_file)
    ) as exe:
        future_1, future_2 = submit_chain(exe)
        assert future_1.done() and future_2.done()
    assert graph_file.read_bytes().startswith(b"\x89PNG\r\n\x1a\n")


def test_appendix_b_workflow_export(tmp_path):
    with ex.SingleNodeExecutor(export_workflow_filename="workflow.json") as exe:
        prod_and_div = exe.submit(get_prod_and_div, x=1, y=2)
        total = exe.submit(
            get_sum, x=get_item_from_future(prod_and_div, "prod"), y=get_item_from_future(prod_and_div, "div")
        )
        result = exe.submit(get_square, x=total)
        assert result.result() is None
    assert json.loads((tmp_path / "workflow.json").read_text()) == {
        "version": "0.1.0",
        "nodes": [
            {"id": 0, "type": "function", "value": f"{__name__}.get_prod_and_div"},
            {"id": 1, "type": "function", "value": f"{__name__}.get_sum"},
            {"id": 2, "type": "function", "value": f"{__name__}.get_square"},
            {"id": 3, "type": "input", "value": 1, "name": "x"},
            {"id": 4, "type": "input", "value": 2, "name": "y"},
            {"id": 5, "type": "output", "name": "result"},
        ],
        "edges": [
            {"target": 0, "targetPort": "x", "source": 3, "sourcePort": None},
            {"target": 0, "targetPort": "y", "source": 4, "sourcePort": None},
            {"target": 1, "targetPort": "x", "source": 0, "sourcePort": "prod"},
            {"target": 1, "targetPort": "y", "source": 0, "sourcePort": "div"},
            {"target": 2, "targetPort": "x", "source": 1, "sourcePort": None},
            {"target": 5, "targetPort": None, "source": 2, "sourcePort": None},
        ],
    }
    assert not (tmp_path / "graph.json").exists()


def test_export_wins_over_the_plot_filename_and_writes_numpy_arrays_as_lists(tmp_path):
    with ex.SlurmClusterExecutor(plot_dependency_graph_filename="graph.svg", export_workflow_filename="wf.json") as exe:
        exe.submit(echo, np.array([[1, 2], [3, 4]]))
    workflow = json.loads((tmp_path / "wf.json").read_text())
    assert workflow["nodes"][1] == {"id": 1, "type": "input", "value": [[1, 2], [3, 4]], "name": "i"}
    assert workflow["edges"][-1] == {"target": 2, "targetPort": None, "source": 0, "sourcePort": None}
    assert not (tmp_path / "graph.svg").exists()


def test_workflow_result_follows_executorlibs_highest_target_rule(tmp_path):
    with ex.SingleNodeExecutor(export_workflow_filename="wf.json") as exe:
        submit_many_to_one(exe)
    edges = json.loads((tmp_path / "wf.json").read_text())["edges"]
    assert len(edges) == 23
    assert edges[-1] == {"target": 14, "targetPort": None, "source": 13, "sourcePort": None}  # the list node


def plot_to(tmp_path, name):
    with ex.SingleNodeExecutor(plot_dependency_graph_filename=str(tmp_path / name)) as exe:
        f = exe.submit(get_dict, 5)
        exe.submit(add_function, get_item_from_future(f, "a"), parameter_2=[f, "x"])
    return tmp_path / name


def test_json_file_is_the_graph_payload(tmp_path):
    payload = json.loads(plot_to(tmp_path, "graph.json").read_text())
    assert payload == {
        "version": 1,
        "nodes": [
            {"id": 0, "kind": "function", "label": "get_dict", "value": f"{__name__}.get_dict"},
            {"id": 1, "kind": "function", "label": "add_function", "value": f"{__name__}.add_function"},
            {"id": 2, "kind": "input", "label": "5", "value": "5"},
            {"id": 3, "kind": "list", "label": "[$, x]", "value": "python_workflow_definition.shared.get_list"},
        ],
        "edges": [
            {"source": 2, "target": 0, "label": "i", "source_label": None},
            {"source": 0, "target": 1, "label": "parameter_1", "source_label": "a"},
            {"source": 3, "target": 1, "label": "parameter_2", "source_label": None},
            {"source": 0, "target": 3, "label": "0", "source_label": None},
        ],
    }


def test_dot_file(tmp_path):
    text = plot_to(tmp_path, "graph.dot").read_text()
    assert text.startswith("digraph dependencies {")
    assert '0 [label="get_dict", shape=box' in text
    assert '2 [label="5", shape=circle' in text
    assert '0 -> 1 [label="parameter_1", taillabel="a"];' in text
    assert '3 -> 1 [label="parameter_2"];' in text


def test_svg_file(tmp_path):
    root = ElementTree.fromstring(plot_to(tmp_path, "graph.svg").read_bytes())
    assert root.tag.endswith("svg")
    texts = {element.text for element in root.iter() if element.tag.endswith("text")}
    assert {"get_dict", "add_function", "5", "[$, x]"} <= texts


def test_png_and_pdf_files(tmp_path):
    assert plot_to(tmp_path, "graph.png").read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
    assert plot_to(tmp_path, "graph.PDF").read_bytes().startswith(b"%PDF")


@pytest.mark.parametrize("name", ["graph.xyz", "graph"])
def test_an_unknown_extension_is_refused(name):
    with pytest.raises(ValueError) as error:
        ex.SingleNodeExecutor(plot_dependency_graph_filename=name)
    message = str(error.value)
    assert (".xyz" if name.endswith("xyz") else "(none)") in message
    assert ".json" in message and ".dot" in message and ".svg" in message and ".png" in message


def test_without_graphviz_svg_and_png_say_to_install_it_and_dot_json_still_work(monkeypatch, tmp_path):
    monkeypatch.setattr(formats, "find_dot", lambda: None)
    for name in ["graph.svg", "graph.png"]:
        with pytest.raises(RuntimeError, match=r"apt-get install graphviz.*\.dot and \.json files need nothing"):
            ex.SingleNodeExecutor(plot_dependency_graph_filename=name)
    assert plot_to(tmp_path, "graph.dot").read_text().startswith("digraph")
    assert json.loads(plot_to(tmp_path, "graph.json").read_text())["version"] == 1


class FakeShell:
    pass


@pytest.fixture
def notebook(monkeypatch):
    """IPython's get_ipython() and display(), the latter recording what it was given."""
    import IPython
    import IPython.display

    shown = []
    monkeypatch.setattr(IPython, "get_ipython", lambda: FakeShell())
    monkeypatch.setattr(IPython.display, "display", lambda *objs, **kw: shown.append((objs, kw)))
    return shown


def test_notebook_display_bundle(notebook):
    with ex.SingleNodeExecutor(plot_dependency_graph=True) as exe:
        submit_chain(exe)
        assert notebook == []
    ((objs, kw),) = notebook
    assert kw == {"raw": True}
    (bundle,) = objs
    assert set(bundle) == {GRAPH_MIME, "image/svg+xml", "text/plain"}
    assert bundle[GRAPH_MIME]["version"] == 1 and len(bundle[GRAPH_MIME]["nodes"]) == 4
    assert bundle["text/plain"] == "<dependency graph: 2 calls, 2 inputs, 4 edges>"
    assert "add_function" in ElementTree.tostring(ElementTree.fromstring(bundle["image/svg+xml"]), encoding="unicode")


def test_notebook_display_without_graphviz_has_no_svg(notebook, monkeypatch):
    monkeypatch.setattr(formats, "find_dot", lambda: None)
    with ex.SingleNodeExecutor(plot_dependency_graph=True) as exe:
        submit_chain(exe)
    ((objs, _),) = notebook
    assert set(objs[0]) == {GRAPH_MIME, "text/plain"}


def test_a_file_is_written_instead_of_displayed(notebook, tmp_path):
    plot_to(tmp_path, "graph.dot")
    assert notebook == []


def test_outside_ipython_nothing_is_displayed(monkeypatch):
    import IPython
    import IPython.display

    shown = []
    monkeypatch.setattr(IPython, "get_ipython", lambda: None)
    monkeypatch.setattr(IPython.display, "display", lambda *objs, **kw: shown.append(objs))
    with ex.SingleNodeExecutor(plot_dependency_graph=True) as exe:
        submit_chain(exe)
    assert shown == []


def test_a_real_ipython_shell_receives_the_bundle(monkeypatch, tmp_path):
    monkeypatch.setenv("IPYTHONDIR", str(tmp_path / "ipython"))
    from IPython.core.interactiveshell import InteractiveShell
    from IPython.utils.capture import capture_output

    InteractiveShell.instance()
    try:
        with capture_output() as captured:
            with ex.FluxClusterExecutor(plot_dependency_graph=True) as exe:
                submit_many_to_one(exe)
    finally:
        InteractiveShell.clear_instance()
    (output,) = captured.outputs
    assert output.data["text/plain"] == "<dependency graph: 7 calls, 6 inputs, 22 edges>"
    assert len(output.data[GRAPH_MIME]["nodes"]) == 14


def test_second_shutdown_is_a_no_op_and_submit_after_shutdown_fails(tmp_path):
    exe = ex.SingleNodeExecutor(plot_dependency_graph_filename="graph.json")
    submit_chain(exe)
    exe.shutdown()
    (tmp_path / "graph.json").unlink()
    exe.shutdown()
    with exe:
        pass
    assert not (tmp_path / "graph.json").exists()
    with pytest.raises(RuntimeError, match="after shutdown"):
        exe.submit(echo, 1)


def test_cluster_executor_with_wait_false_still_writes_the_graph(tmp_path):
    with ex.SlurmClusterExecutor(plot_dependency_graph_filename="graph.json", wait=False) as exe:
        submit_chain(exe)
    assert len(json.loads((tmp_path / "graph.json").read_text())["nodes"]) == 4


def test_disable_dependencies_with_plot_dependency_graph_is_refused():
    with pytest.raises(ValueError, match="disable_dependencies"):
        ex.SingleNodeExecutor(plot_dependency_graph=True, disable_dependencies=True)


def test_resource_dict_parameter_is_still_refused():
    def uses_resource_dict(resource_dict):
        return resource_dict

    with ex.SingleNodeExecutor(plot_dependency_graph_filename="graph.json") as exe:
        with pytest.raises(ValueError, match="resource_dict"):
            exe.submit(uses_resource_dict, {})


def test_submit_with_a_label_and_a_given_future(tmp_path):
    """The cell magics' path: _submit with the view's name and the future to complete."""
    with ex.SingleNodeExecutor(plot_dependency_graph_filename="graph.json") as exe:
        given = TaskFuture()
        returned = exe._submit(echo, (1,), {}, None, label="%%submit cell 3", future=given)
        assert returned is given and given.result() is None and given.task_id is None
        assert given.label == "%%submit cell 3"
    node = json.loads((tmp_path / "graph.json").read_text())["nodes"][0]
    assert node == {"id": 0, "kind": "function", "label": "%%submit cell 3", "value": f"{__name__}.echo"}


def test_long_inputs_get_short_labels_and_clipped_values():
    with ex.SingleNodeExecutor(plot_dependency_graph=True) as exe:
        exe.submit(echo, "x" * 500)
        exe.submit(echo, list(range(100)))
        exe.submit(echo, object())
        inputs = [n for n in graph_of(exe)["nodes"] if n["kind"] == "input"]
    assert inputs[0]["label"] == "x" * 21 + "..."
    assert all(len(n["label"]) <= 30 and len(n["value"]) <= 200 for n in inputs)
    assert inputs[2]["label"] == "object()"


def test_varargs_kwargs_builtins_and_foreign_futures():
    from concurrent.futures import Future

    def varargs(*values, **options):
        return values, options

    done, pending = Future(), Future()
    done.set_result(7)
    with ex.SingleNodeExecutor(plot_dependency_graph=True) as exe:
        first = exe.submit(max, 1, 2)  # no signature: labelled by position
        exe.submit(varargs, first, done, pending, scale=first)
        payload = graph_of(exe)
    labels = [(e["source"], e["target"], e["label"]) for e in payload["edges"]]
    assert labels[:2] == [(2, 0, "0"), (3, 0, "1")]
    assert (0, 1, "0") in labels and (0, 1, "scale") in labels
    by_id = {n["id"]: n for n in payload["nodes"]}
    assert by_id[labels[3][0]]["label"] == "7"  # a finished foreign future is its value
    assert by_id[labels[4][0]]["label"] == "Future()"


def test_map_and_max_workers_setter_need_no_bridge():
    with ex.SingleNodeExecutor(max_workers=1, block_allocation=True, plot_dependency_graph=True) as exe:
        assert list(exe.map(echo, [1, 2, 3])) == [None, None, None]
        exe.max_workers = 2
        assert exe.max_workers == 2
        assert len([n for n in graph_of(exe)["nodes"] if n["kind"] == "function"]) == 3
