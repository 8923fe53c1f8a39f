"""``python -m loadtests.journeys``: Locust headless, its reports, a verdict on thresholds."""

import sys

from loadtests.journeys.runner import main

sys.exit(main())
