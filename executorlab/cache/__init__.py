"""The result cache: executorlib-format HDF5 files (``hdf``), keys and input pickles made in the kernel
(``key``), and cancelling cluster jobs recorded in a cache directory (``terminate``). The bridge writes
and looks up the files; see kernel-bridge/src/cache/."""
