ARG BASE
FROM ${BASE}
COPY runner/ /opt/codemind/runner/
RUN chmod -R a+rX /opt/codemind && mkdir -p /work && chmod 1777 /work
ENV LANG=C.UTF-8 PYTHONDONTWRITEBYTECODE=1 PYTHONHASHSEED=0
USER 10001:10001
WORKDIR /work
