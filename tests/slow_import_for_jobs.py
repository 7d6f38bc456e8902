"""A module whose import takes 30 s: tests/test_jobs.py preloads it in a child process."""

import time

time.sleep(30)
