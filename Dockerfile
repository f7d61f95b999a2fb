# Slim runtime image: no compilers, a non-root user, a health check on /healthz.
FROM python:3.11-slim AS build
WORKDIR /src
COPY pyproject.toml constraints.txt README.md alembic.ini babel.cfg ./
COPY bot bot
COPY handlers handlers
COPY flows flows
COPY models models
COPY migrations migrations
COPY i18n i18n
# The catalogs travel inside the package and are compiled in memory when first used.
RUN pip install --no-cache-dir --prefix=/install -c constraints.txt .

FROM python:3.11-slim
ENV PYTHONUNBUFFERED=1 PYTHONDONTWRITEBYTECODE=1 ENV=production HOST=0.0.0.0 PORT=8080
COPY --from=build /install /usr/local
COPY --from=build /src /app
WORKDIR /app
RUN useradd --system --uid 10001 --home /app peerline && chown -R peerline /app
USER peerline
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
  CMD python -c "import urllib.request,sys; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:8080/healthz', timeout=4).status == 200 else 1)"
CMD ["peerline", "run"]
