"""gunicorn settings for the web process: ``gunicorn -c deploy/gunicorn.conf.py config.wsgi``.

Requests are short: every gateway call runs in a Celery task (a notification is stored and
answered, and verified there). Tune with the GUNICORN_* variables in the environment file.
"""

import multiprocessing
import os

# Load the settings now, in the master: a bad environment (a missing secret, a gateway URL on a
# private address in production...) stops gunicorn with the settings' one-line reason and status 1,
# before any worker boots and fails over and over.
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
from django.conf import settings as _settings  # noqa: E402

_settings.INSTALLED_APPS  # noqa: B018 - evaluating a setting imports config.settings

bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("GUNICORN_WORKERS", multiprocessing.cpu_count() * 2 + 1))
threads = int(os.environ.get("GUNICORN_THREADS", 2))
worker_class = "gthread"
timeout = int(os.environ.get("GUNICORN_TIMEOUT", 60))
graceful_timeout = 30
keepalive = 5
# Recycle workers now and then so a slow leak never becomes an outage.
max_requests = 2000
max_requests_jitter = 200
# nginx on the same machine sets X-Forwarded-Proto; trust it only from there.
forwarded_allow_ips = os.environ.get("GUNICORN_FORWARDED_ALLOW_IPS", "127.0.0.1")
accesslog = "-"
errorlog = "-"
# No query strings in the access log, and the secret path segments (portal tokens, notification
# public ids) masked by the logger class below (config.logging), as nginx's log format does.
logger_class = "config.logging.MaskedGunicornLogger"
access_log_format = '%(h)s "%(m)s %(U)s %(H)s" %(s)s %(B)s %(M)sms "%(a)s"'
proc_name = "cobranca-web"
# gunicorn >= 25.1 opens a control socket (for gunicornc); under systemd keep it in the unit's
# RuntimeDirectory (/run/cobranca) rather than the service user's home.
if os.environ.get("RUNTIME_DIRECTORY"):
    control_socket = os.path.join(os.environ["RUNTIME_DIRECTORY"].split(":")[0], "gunicorn.ctl")
