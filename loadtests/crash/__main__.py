"""``python -m loadtests.crash``: the crash test on its own mocks."""

import sys

from loadtests.crash.runner import main

sys.exit(main())
