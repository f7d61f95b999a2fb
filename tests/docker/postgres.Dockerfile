# PostgreSQL from Debian's packages on the same base as the application image, for the compose
# test where no registry is reachable. Reads POSTGRES_USER, POSTGRES_PASSWORD, POSTGRES_DB as
# the official image does; PGPORT (default 5432) is the port it listens on.
ARG BASE=peerline-base:bookworm
FROM ${BASE}
RUN apt-get update -qq \
 && apt-get install -y -qq --no-install-recommends postgresql-15 >/dev/null \
 && rm -rf /var/lib/apt/lists/* /var/cache/apt/* /usr/share/doc/* \
 && install -d -o postgres -g postgres /var/lib/postgresql/data
COPY postgres-entrypoint /usr/local/bin/postgres-entrypoint
ENV PATH=/usr/lib/postgresql/15/bin:$PATH PGDATA=/var/lib/postgresql/data
USER postgres
STOPSIGNAL SIGINT
CMD ["postgres-entrypoint"]
