import sys

from executorlab.worker.loop import main

sys.exit(main(sys.argv[1:]))
