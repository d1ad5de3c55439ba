"""IPython magics: ``%%submit`` runs a cell as a task, ``%executor`` does what the Executors panel does.

Load them with ``%load_ext executorlab`` (the kernels ``executorlab kernelspec install`` writes load them
themselves).
"""


def load_ipython_extension(shell) -> None:
    from executorlab.magics.magics import ExecutorlabMagics

    shell.register_magics(ExecutorlabMagics(shell))


def unload_ipython_extension(shell) -> None:
    magics = shell.magics_manager.registry.get("ExecutorlabMagics")
    if magics is not None:
        magics.choice.close()
