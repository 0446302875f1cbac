FROM python:3.11-slim
WORKDIR /app
COPY pyproject.toml README.md ./
COPY pdi pdi
COPY catalog catalog
COPY catalog_seed catalog_seed
COPY harvesters harvesters
COPY index index
COPY api api
COPY scheduler scheduler
COPY store store
COPY simulator simulator
RUN pip install --no-cache-dir .
RUN useradd --create-home pdi && mkdir /data && chown pdi /data
USER pdi
EXPOSE 8000
CMD ["pdi", "serve", "--host", "0.0.0.0", "--port", "8000"]
