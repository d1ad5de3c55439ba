"""The ``executorlab`` command (also ``python -m executorlab``).

    executorlab kernelspec install [--flux] [--user | --sys-prefix | --prefix PREFIX] [--name NAME]
                                   [--display-name TEXT]

installs a Jupyter kernel spec for the Python running this command; its kernels load executorlab's magics
(``%%submit``, ``%executor``) at start. With ``--flux`` the kernel runs inside
a private flux instance (``flux start python -m ipykernel_launcher ...``), so FluxJobExecutor works in it
without an allocation of its own.
"""

import argparse
import json
import os
import shutil
import sys
import tempfile
from typing import Optional

PROG = "executorlab"

KERNELS = {
    False: {"name": "executorlab", "display_name": "Python 3 (executorlab)"},
    True: {"name": "executorlab-flux", "display_name": "Python 3 (flux)"},
}


def kernel_spec(flux: bool, display_name: Optional[str] = None) -> dict:
    """The kernel.json of the executorlab kernel (``flux``: inside a flux instance)."""
    # --ext: the kernel loads the %%submit and %executor magics itself.
    argv = [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}", "--ext=executorlab"]
    return {
        "argv": ["flux", "start", *argv] if flux else argv,
        "display_name": display_name or KERNELS[flux]["display_name"],
        "language": "python",
        "metadata": {"debugger": True},
    }


def install_kernelspec(options: argparse.Namespace) -> int:
    from jupyter_client.kernelspec import KernelSpecManager

    name = options.name or KERNELS[options.flux]["name"]
    if options.flux and shutil.which("flux") is None:
        print(
            f"{PROG}: warning: no 'flux' on PATH here; the kernel '{name}' starts 'flux start', so it only runs "
            "where flux is available (on compute nodes, e.g. after loading its module)",
            file=sys.stderr,
        )
    prefix = sys.prefix if options.sys_prefix else options.prefix
    with tempfile.TemporaryDirectory() as source:
        with open(os.path.join(source, "kernel.json"), "w", encoding="utf-8") as f:
            json.dump(kernel_spec(options.flux, options.display_name), f, indent=1)
        try:
            destination = KernelSpecManager().install_kernel_spec(
                source, kernel_name=name, user=options.user, prefix=prefix
            )
        except ValueError as error:  # an invalid kernel name: argparse's usage and message, exit 2
            options.parser.error(str(error))
        except PermissionError as error:
            print(
                f"{PROG}: error: cannot write the kernel spec ({error}); use --user to install it for you only, "
                "or --sys-prefix / --prefix PREFIX",
                file=sys.stderr,
            )
            return 1
    print(f"Installed kernelspec {name} in {destination}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=PROG, description="executorlab command line tools")
    commands = parser.add_subparsers(dest="command", metavar="command")

    kernelspec = commands.add_parser("kernelspec", help="manage executorlab's Jupyter kernel specs")
    kernelspec.set_defaults(parser=kernelspec)
    actions = kernelspec.add_subparsers(dest="action", metavar="action")

    install = actions.add_parser(
        "install",
        help="install a Jupyter kernel for this Python",
        description="Install a Jupyter kernel spec that runs this Python (with --flux: inside 'flux start').",
    )
    install.set_defaults(run=install_kernelspec, parser=install)
    install.add_argument(
        "--flux", action="store_true",
        help="run the kernel inside a private flux instance (kernel 'executorlab-flux', 'Python 3 (flux)')",
    )
    where = install.add_mutually_exclusive_group()
    where.add_argument("--user", action="store_true", help="install for the current user only")
    where.add_argument("--sys-prefix", action="store_true", help=f"install into this Python's prefix ({sys.prefix})")
    where.add_argument("--prefix", metavar="PREFIX", help="install into PREFIX/share/jupyter/kernels")
    install.add_argument("--name", help="kernel name (default: executorlab, or executorlab-flux with --flux)")
    install.add_argument("--display-name", metavar="TEXT", help="name shown in JupyterLab's launcher")
    return parser


def main(argv=None) -> int:
    parser = build_parser()
    options = parser.parse_args(sys.argv[1:] if argv is None else argv)
    run = getattr(options, "run", None)
    if run is None:  # a command without its action, or no command at all
        getattr(options, "parser", parser).print_help(sys.stderr)
        return 2
    return run(options)
