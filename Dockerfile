# related-articles: CPU-only image. Install steps are scripts/install.sh, the same as the README's.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    VENV=/opt/venv \
    EXTRAS="" \
    TORCH_INDEX_URL=https://download.pytorch.org/whl/cpu \
    RELATED_DATA_DIR=/data \
    RELATED_MODEL_CACHE=/opt/models \
    RELATED_HOST=0.0.0.0 \
    RELATED_PORT=8000

WORKDIR /app
COPY pyproject.toml README.md ./
COPY scripts ./scripts
COPY embeddings ./embeddings
COPY service ./service
RUN scripts/install.sh && rm -rf /root/.cache/pip
# The OpenVINO backend's conversion of the packaged model, made once here (offline), so that no
# container converts it at its first start.
RUN /opt/venv/bin/python -c "from embeddings.openvino_encoder import OpenVINOEncoder as E; from pathlib import Path; E(cache_dir=Path('/opt/models')).warm_up()"

RUN useradd --system --create-home --uid 10001 related \
    && mkdir -p /data && chown related /data
USER related
ENV PATH=/opt/venv/bin:$PATH
VOLUME ["/data"]
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=3s CMD python -c "import urllib.request,sys; sys.exit(urllib.request.urlopen('http://127.0.0.1:8000/healthz').status != 200)"
CMD ["related", "serve"]
