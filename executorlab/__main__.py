import sys

from executorlab.cli import main

sys.exit(main())
