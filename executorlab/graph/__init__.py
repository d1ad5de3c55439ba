"""executorlib's plot mode: record the calls instead of running them, then draw or export their graph."""

from executorlab.graph.recorder import GraphRecorder, plot_recorder

__all__ = ["GraphRecorder", "plot_recorder"]
