# berth-demo-base:local — a Node runtime made FROM scratch out of the host's own files, for
# machines with no image registry. images/build.sh fills the build context's root/ with the host's
# node binary, the shared libraries `ldd` lists for it, and a static busybox with its applet
# symlinks (sh, nc, wget, ...). On a machine with a registry use node:20-slim instead
# (BERTH_DEMO_BASE_IMAGE=node:20-slim); nothing else changes.
FROM scratch
COPY root/ /
ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
WORKDIR /app
CMD ["node"]
