"""gunicorn in production, behind the reverse proxy (README « Déploiement en production »):

    gunicorn -c calpae/gunicorn.conf.py calpae.wsgi

launched from the project's folder, with the production environment (``SECRET_KEY``…). Every
value can be changed from the environment.
"""

import multiprocessing
import os

from calpae.logging import gunicorn_logconfig

# The loopback only: the reverse proxy, on the same machine, is the one door (HTTPS, X-Real-IP).
bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
# gunicorn's rule of thumb; each worker holds a copy of the application (WeasyPrint included).
workers = int(os.environ.get("GUNICORN_WORKERS", 2 * multiprocessing.cpu_count() + 1))
# More than 1: threaded workers, for pages that mostly wait for the database.
threads = int(os.environ.get("GUNICORN_THREADS", 1))
# A PDF table or an XLSX takes well under a second; the long report is made by the worker
# (manage.py db_worker), never in a request. A request still running after this is killed.
timeout = int(os.environ.get("GUNICORN_TIMEOUT", 60))
graceful_timeout = int(os.environ.get("GUNICORN_GRACEFUL_TIMEOUT", 30))
keepalive = int(os.environ.get("GUNICORN_KEEPALIVE", 5))
# Workers are replaced now and then, so that memory a long document took is given back.
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", 1000))
max_requests_jitter = max_requests // 10

# Access lines on stdout, errors on stderr, as JSON (LOG_FORMAT=json, the default) with the
# request id our middleware put on the response; calpae.logging turns the line's parts into fields.
accesslog = "-"
access_log_format = '%(h)s "%(m)s %(U)s" %(s)s %(B)s %(M)sms %({x-request-id}o)s'
logconfig_dict = gunicorn_logconfig(os.environ.get("LOG_FORMAT", "json"))

# Recent gunicorn versions open a control socket in the home folder; nothing here uses it.
control_socket_disable = True
