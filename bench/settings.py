"""Settings for benchmark servers: the product's, with bench/urls.py as the root URLconf.

DJANGO_SETTINGS_MODULE=bench.settings gunicorn config.wsgi:application
"""

from config.settings import *  # noqa: F403

ROOT_URLCONF = "bench.urls"
