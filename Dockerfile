# related-articles: CPU-only image. Install steps are scripts/install.sh, the same as the README's,
# with every version pinned by constraints.txt (scripts/lock.py) and the project installed
# non-editable: two builds of this file install the same packages, and /app is not needed after.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    VENV=/opt/venv \
    EXTRAS="" \
    CONSTRAINTS=constraints.txt \
    EDITABLE=0 \
    TORCH_INDEX_URL=https://download.pytorch.org/whl/cpu \
    RELATED_DATA_DIR=/data \
    RELATED_MODEL_CACHE=/opt/models \
    RELATED_HOST=0.0.0.0 \
    RELATED_PORT=8000

WORKDIR /app
COPY pyproject.toml README.md constraints.txt ./
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
# Healthy means ready: /readyz answers 200 only once a generation is served (503 before the
# first build), so an orchestrator sends no traffic to an empty index. The start period covers
# loading the model and the index; failures then do not count.
HEALTHCHECK --start-period=120s --interval=30s --timeout=5s --retries=3 \
    CMD python -c "import os,sys,urllib.request; sys.exit(urllib.request.urlopen('http://127.0.0.1:%s/readyz' % os.environ.get('RELATED_PORT', '8000'), timeout=4).status != 200)"
CMD ["related", "serve"]
