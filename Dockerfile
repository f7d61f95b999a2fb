# Slim runtime image: no pip, no build leftovers, one copy of the code, a non-root user.
# The base is python:3.11-slim (build it locally where no registry is reachable).
FROM python:3.11-slim AS build
WORKDIR /src
COPY pyproject.toml constraints.txt README.md alembic.ini babel.cfg ./
COPY bot bot
COPY handlers handlers
COPY flows flows
COPY models models
COPY migrations migrations
COPY i18n i18n
# Compiled catalogs go into the installed package (they are also compiled in memory if absent).
RUN pip install --no-cache-dir -c constraints.txt Babel \
 && pybabel compile --domain messages --directory i18n >/dev/null \
 && pip install --no-cache-dir --no-compile --prefix=/install -c constraints.txt . \
 && find /install -name '__pycache__' -prune -exec rm -rf {} +

FROM python:3.11-slim
ENV PYTHONUNBUFFERED=1 PYTHONDONTWRITEBYTECODE=1 ENV=production HOST=0.0.0.0 PORT=8080 \
    WORKER_PORT=8081 KEY_FILE=/data/peerline.key \
    DATABASE_URL=sqlite+aiosqlite:////data/peerline.db
# Only the installed package: pip, setuptools and wheel are not needed at run time.
RUN python -m pip uninstall -y pip setuptools wheel >/dev/null 2>&1; \
    rm -rf /usr/local/lib/python3.11/ensurepip \
 && useradd --system --uid 10001 --home /data peerline && mkdir /data && chown peerline /data
COPY --from=build /install /usr/local
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
