# One image for migrate, web/API, worker and beat.
# htmx for the web UI, pinned and checked (scripts/fetch-htmx does the same outside Docker).
FROM node:20-bookworm-slim AS htmx
WORKDIR /htmx
COPY scripts/fetch-htmx ./scripts/fetch-htmx
RUN mkdir -p src/khenthuong/web/static && bash scripts/fetch-htmx

FROM python:3.11-slim-bookworm
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /app
COPY pyproject.toml README.md ./
COPY src ./src
COPY --from=htmx /htmx/src/khenthuong/web/static/vendor ./src/khenthuong/web/static/vendor
COPY workers ./workers
COPY workflows ./workflows
COPY config ./config
RUN pip install --no-cache-dir ".[ops]" && useradd --system --home /app khenthuong \
    && mkdir -p /app/var && chown khenthuong /app/var
USER khenthuong
ENV KHENTHUONG_WORKFLOWS_DIR=/app/workflows KHENTHUONG_CONFIG_DIR=/app/config
EXPOSE 8000
CMD ["khenthuong", "serve", "--host", "0.0.0.0", "--port", "8000"]
