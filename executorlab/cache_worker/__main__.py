import sys

from executorlab.cache_worker import main

sys.exit(main())
