"""Worker processes: connect to the bridge, run cloudpickled functions, send results back."""
