# digitalocean-exporter container image: a wheel built in one stage, installed into a virtual
# environment on a slim Python runtime in the next. The final image has no compiler, no pip and
# no package manager cache; it runs as a numeric non-root user and writes nothing at run time,
# so it works with a read-only root filesystem. Documented in docs/deploy.md; linted by
# hadolint in tests/deploy/test_dockerfile.py.
#
#   docker build -t digitalocean-exporter:0.1.0 \
#     --build-arg REVISION="$(git rev-parse HEAD)" --build-arg CREATED="$(date -u +%FT%TZ)" .
#
# The base image is pinned by tag to the Python minor version CI tests (3.11). For builds that
# must not change under you, add the digest your registry resolves it to
# (python:3.11-slim-trixie@sha256:...) in both FROM lines.

FROM python:3.11-slim-trixie AS build

ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1 \
    PYTHONDONTWRITEBYTECODE=1

WORKDIR /src
# Only what the wheel is built from (.dockerignore keeps the rest of the tree out)
COPY pyproject.toml README.md LICENSE ./
COPY exporter ./exporter
# The project's wheel, then a virtual environment without pip holding it and its dependencies
# (all of which are published as wheels, so nothing is compiled). Byte code is compiled here,
# once, because the running container cannot write it.
RUN pip wheel --no-deps --wheel-dir /wheels . \
 && python -m venv --without-pip /opt/venv \
 && pip --python /opt/venv/bin/python install --only-binary=:all: /wheels/*.whl \
 && /opt/venv/bin/python -m compileall -q /opt/venv/lib

FROM python:3.11-slim-trixie

ARG VERSION=0.1.0
ARG REVISION=unknown
ARG CREATED=unknown

LABEL org.opencontainers.image.title="digitalocean-exporter" \
      org.opencontainers.image.description="Prometheus exporter for DigitalOcean: read-only tokens, background polling, cached /metrics" \
      org.opencontainers.image.licenses="Apache-2.0" \
      org.opencontainers.image.source="https://github.com/digitalocean-exporter/digitalocean-exporter" \
      org.opencontainers.image.url="https://github.com/digitalocean-exporter/digitalocean-exporter" \
      org.opencontainers.image.documentation="https://github.com/digitalocean-exporter/digitalocean-exporter/blob/main/docs/deploy.md" \
      org.opencontainers.image.vendor="digitalocean-exporter" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.created="${CREATED}" \
      org.opencontainers.image.base.name="docker.io/library/python:3.11-slim-trixie"

# pip, setuptools and wheel of the base image are build tools: the final image needs none of them
RUN python -m pip uninstall --yes --quiet pip setuptools wheel

COPY --from=build /opt/venv /opt/venv

# No .pyc writes (the root filesystem may be read-only), logs straight to stdout/stderr, and
# no user site directory (there is no home to look in).
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PYTHONNOUSERSITE=1 \
    PYTHONFAULTHANDLER=1 \
    HEALTHCHECK_URL=http://127.0.0.1:9212/healthz

# 65532: no account in /etc/passwd and no file in the image is owned by it; Kubernetes'
# runAsUser uses the same number.
USER 65532:65532
WORKDIR /

EXPOSE 9212

# For plain Docker (Kubernetes ignores it and uses the probes in deploy/kubernetes). It asks the
# unauthenticated /healthz over plain HTTP: with --web.config.file (TLS, or basic auth without
# probes_without_auth) or another --web.listen-address, set HEALTHCHECK_URL, or pass
# --no-healthcheck to docker run.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
  CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen(os.environ['HEALTHCHECK_URL'], timeout=4)"]

ENTRYPOINT ["digitalocean-exporter"]
