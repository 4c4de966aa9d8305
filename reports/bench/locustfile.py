"""The load test of ``manage.py bench_load`` (``make bench``): demo users browsing the main pages.

Started by ``bench_load`` only (``locust -f reports/bench/locustfile.py --headless …``) against the
gunicorn it started on the loopback. Each simulated user takes a demo account in turn, logs in
through the real login form (its CSRF token read from the page), finds its pages as a person
would, by the links of the home page and of its year's page, then browses again and again: home,
the year page, a fiche, the fiche's indicators, the review page, the XLSX of the financial table,
and, for the reviewers of a region and the national administrator, the consolidated view.

Locust speaks plain HTTP to gunicorn on the loopback, in the place of the browser and of the
reverse proxy of the deployment (README « Déploiement en production »): every request says, as
the proxy does, that HTTPS ended before it (``X-Forwarded-Proto: https``), the login form is sent
with the HTTPS ``Referer`` a browser sends, and the ``Secure`` cookies are sent back, so the
production settings apply unchanged (HTTPS redirect, secure cookies, CSRF checking the Referer).
Read from the environment, set by ``bench_load``:

- ``CALPAE_BENCH_ACCOUNTS``: a JSON file ``[{"username", "password", "consolidation"}, …]``;
- ``CALPAE_BENCH_YEAR``: the year whose page each user opens (its latest one if it has none);
- ``CALPAE_BENCH_THINK``: the mean pause of a user between two pages, in seconds (0: none);
- ``CALPAE_BENCH_RESULTS``: the file where each request is written, one a line (name, start,
  milliseconds, error), from which ``bench_load`` computes exact percentiles (Locust's own
  statistics round the times).
"""

import itertools
import json
import os
import random
import re
from http.cookiejar import DefaultCookiePolicy
from pathlib import Path

from locust import FastHttpUser, events, task

ACCOUNTS = json.loads(Path(os.environ["CALPAE_BENCH_ACCOUNTS"]).read_text(encoding="utf-8"))
YEAR = os.environ.get("CALPAE_BENCH_YEAR", "2022")
THINK = float(os.environ.get("CALPAE_BENCH_THINK", "0"))

CSRF_TOKEN = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
YEAR_LINK = re.compile(r'href="/exercices/(\d+)/">(\d{4})</a>')
FICHE_LINK = re.compile(r'href="/fiches/(\d+)/"')
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

# Request names: bench_load prints them in the order of its PAGES.
_next_account = itertools.count()
# Open for the whole run, closed when Locust quits.
_results = Path(os.environ["CALPAE_BENCH_RESULTS"]).open("a", encoding="utf-8")  # noqa: SIM115
SPACES = re.compile(r"\s+")


@events.request.add_listener
def _record(name, response_time, exception, start_time, **kwargs):
    error = SPACES.sub(" ", str(exception) or repr(exception)) if exception else ""
    _results.write(f"{name}\t{start_time:.6f}\t{response_time:.3f}\t{error}\n")


@events.quitting.add_listener
def _close(**kwargs):
    _results.close()


class DemoUser(FastHttpUser):
    # One session per user; no page waits more than this for gunicorn.
    network_timeout = 120.0
    connection_timeout = 10.0

    def wait_time(self):
        # Between two pages (see _page); a browsing round starts right after the last one.
        return random.uniform(0.5 * THINK, 1.5 * THINK) if THINK else 0

    def on_start(self):
        self.account = ACCOUNTS[next(_next_account) % len(ACCOUNTS)]
        self.headers = {"X-Forwarded-Proto": "https"}
        # The browser speaks HTTPS to the proxy and sends back the Secure cookies (session,
        # CSRF) that Django sets: so does this client, although it speaks HTTP to gunicorn.
        self.client.cookiejar.set_policy(DefaultCookiePolicy(secure_protocols=("https", "http")))
        self.year_id = None
        self.fiche_ids: list[str] = []
        self._log_in()
        self._find_pages()

    def _page(self, path: str, name: str, *, content_type: str = "text/html"):
        """GET a page that must answer 200 with its content, not a redirection to the login."""
        with self.client.get(
            path,
            name=name,
            headers=self.headers,
            allow_redirects=False,
            catch_response=True,
        ) as response:
            if response.status_code != 200:
                response.failure(f"{response.status_code} {response.headers.get('Location', '')}")
            elif not (response.headers.get("Content-Type") or "").startswith(content_type):
                response.failure(f"Content-Type {response.headers.get('Content-Type')}")
        if THINK:
            self.wait()  # a person reads the page before the next one
        return response

    def _log_in(self):
        form = self._page("/connexion/", "connexion (formulaire)")
        token = CSRF_TOKEN.search(form.text or "")
        if token is None:
            raise RuntimeError("Jeton CSRF introuvable dans le formulaire de connexion.")
        with self.client.post(
            "/connexion/",
            name="connexion (envoi)",
            data={
                "csrfmiddlewaretoken": token.group(1),
                "username": self.account["username"],
                "password": self.account["password"],
                "next": "",
            },
            headers={**self.headers, "Referer": f"{self.host.replace('http:', 'https:')}/"},
            allow_redirects=False,
            catch_response=True,
        ) as response:
            if response.status_code != 302 or response.headers.get("Location") != "/":
                response.failure(f"connexion refusée ({response.status_code})")

    def _find_pages(self):
        home = self._page("/", "accueil")
        years = YEAR_LINK.findall(home.text or "")
        if not years:
            raise RuntimeError(f"Aucun exercice sur l'accueil de {self.account['username']}.")
        chosen = [pk for pk, year in years if year == YEAR] or [max(years, key=lambda y: y[1])[0]]
        self.year_id = chosen[0]
        year_page = self._page(f"/exercices/{self.year_id}/", "exercice")
        self.fiche_ids = sorted(set(FICHE_LINK.findall(year_page.text or "")))

    @task
    def browse(self):
        self._page("/", "accueil")
        self._page(f"/exercices/{self.year_id}/", "exercice")
        if self.fiche_ids:
            fiche = random.choice(self.fiche_ids)
            self._page(f"/fiches/{fiche}/", "fiche")
            self._page(f"/fiches/{fiche}/indicateurs/", "indicateurs de la fiche")
        self._page(f"/exercices/{self.year_id}/relecture/", "relecture")
        self._page(
            f"/exercices/{self.year_id}/documents/financial-table.xlsx",
            "tableau financier XLSX",
            content_type=XLSX,
        )
        if self.account["consolidation"]:
            self._page(f"/consolidation/?annee={YEAR}", "vue consolidée")
