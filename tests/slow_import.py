"""A module that takes a second to import, for the extraction pool's ``preload`` test."""

import time

time.sleep(1.0)
