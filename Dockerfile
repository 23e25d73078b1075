# syntax=docker/dockerfile:1
# Anonymiser container: REST API v1 on port 8080, CPU by default.
# GPU image: docker build --build-arg ONNXRUNTIME_NODE_INSTALL=cuda12 -t anonymiser:gpu .
#   (needs internet at build time: onnxruntime-node's install script fetches its CUDA 12 provider libraries;
#    run it with `docker run --gpus all anonymiser:gpu --provider cuda` on a host with CUDA 12 + cuDNN 9 drivers.)

FROM node:20-bookworm-slim AS build
WORKDIR /app
# better-sqlite3 compiles from source when no prebuilt binary can be fetched.
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ \
 && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json .npmrc ./
ARG ONNXRUNTIME_NODE_INSTALL=skip
RUN ONNXRUNTIME_NODE_INSTALL=skip npm ci \
 && if [ "$ONNXRUNTIME_NODE_INSTALL" != "skip" ]; then \
      cd node_modules/onnxruntime-node && ONNXRUNTIME_NODE_INSTALL="$ONNXRUNTIME_NODE_INSTALL" node script/install.js; \
    fi
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build && npm prune --omit=dev \
 # The image uses Debian's ffmpeg; drop the npm fallbacks and other platforms' onnxruntime binaries.
 && rm -rf node_modules/@ffmpeg-installer node_modules/@ffprobe-installer \
 && find node_modules/onnxruntime-node/bin/napi-v6 -mindepth 1 -maxdepth 1 ! -name linux -exec rm -rf {} + \
 && find node_modules/onnxruntime-node/bin/napi-v6/linux -mindepth 1 -maxdepth 1 ! -name x64 -exec rm -rf {} +

FROM node:20-bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends ffmpeg tini \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY package.json ./
COPY bin ./bin
COPY models ./models
# Model packs (models/packs.json: YuNet for faces), verified by sha256, when the internet (or MODEL_MIRROR) is
# reachable; without them the image builds anyway and detects faces with the bundled ensemble.
ARG MODEL_MIRROR=
RUN node bin/anonymiser models fetch ${MODEL_MIRROR:+--model-mirror "$MODEL_MIRROR"} \
 || echo "warning: model packs not fetched; faces use the bundled ensemble (run 'anonymiser models fetch' with a mirror to add them)" >&2
COPY entrypoint.sh /usr/local/bin/entrypoint.sh
RUN mkdir -p /data/input /data/output && chown -R node:node /data
# glibc's malloc keeps one arena per thread; with a session worker thread per model that held ~0.4 GiB more
# peak RSS in npm run bench (1706 -> 1279 MiB with 2 arenas, same speed). YuNet and PP-OCR run without onnxruntime's
# arena, so each run maps its activations afresh: with transparent huge pages for malloc's mappings (glibc >= 2.35;
# the host's THP setting must be madvise or always) a 1080p YuNet run takes ~380 instead of ~540 ms, and the image
# bench 0.94x the CPU for ~50 MiB more peak RSS.
ENV NODE_ENV=production \
    MALLOC_ARENA_MAX=2 \
    GLIBC_TUNABLES=glibc.malloc.hugetlb=1 \
    ANONYMISER_INPUT=/data/input \
    ANONYMISER_OUTPUT=/data/output \
    ANONYMISER_PORT=8080
USER node
VOLUME ["/data/input", "/data/output"]
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s CMD node -e "fetch('http://127.0.0.1:'+(process.env.ANONYMISER_PORT||8080)+'/v1/status',{headers:{'x-api-key':process.env.ANONYMISER_API_KEY||''}}).then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"
ENTRYPOINT ["tini", "--", "entrypoint.sh"]
CMD []
