"""Settings for a benchmark's reference server: Retainer's own settings, with a URLconf
that adds a trivial JSON view (``/bench/hello``) in front of the product's URLs, or serves
only that view (``BENCH_HELLO_ONLY=1``, the memory floor of a Django process here).

The reference goes through the same server, workers and middleware as the product, so
the ratio of a product figure to the hello figure measured in the same run does not
depend on how fast the machine happens to be that day.
"""

import os

from retainer.settings import *  # noqa: F403

ROOT_URLCONF = "hello_only_urls" if os.environ.get("BENCH_HELLO_ONLY") == "1" else "hello_urls"
