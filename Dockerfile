# One image for migrate, web/API, worker and beat.
FROM python:3.11-slim-bookworm
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /app
COPY pyproject.toml README.md ./
COPY src ./src
COPY workers ./workers
COPY workflows ./workflows
COPY config ./config
RUN pip install --no-cache-dir ".[ops]" && useradd --system --home /app khenthuong \
    && mkdir -p /app/var && chown khenthuong /app/var
USER khenthuong
ENV KHENTHUONG_WORKFLOWS_DIR=/app/workflows KHENTHUONG_CONFIG_DIR=/app/config
EXPOSE 8000
CMD ["khenthuong", "serve", "--host", "0.0.0.0", "--port", "8000"]
