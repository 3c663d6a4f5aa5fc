#!/usr/bin/env bash
# Installs the Debian packages the local sandbox uses (run as root, or with sudo):
#   docker-registry  the OCI registry standing in for ECR's data plane (HTTPS + basic auth)
#   podman           the image engine, serving the Docker API to the docker CLI through DOCKER_HOST
#   busybox-static   the one binary of the sample app, which builds FROM scratch
#   apache2-utils    htpasswd, for the registry's basic auth
#   openssl          the registry's per-run certificate
#   time             GNU time, for peak-RSS measurements in npm run bench
#   docker.io        only when no docker CLI is on PATH (its daemon is not used)
set -euo pipefail
SUDO=''
if [ "$(id -u)" -ne 0 ]; then SUDO='sudo'; fi
packages=(docker-registry podman busybox-static apache2-utils openssl time uidmap)
command -v docker >/dev/null 2>&1 || packages+=(docker.io)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  if [ -n "$SUDO" ] && ! command -v sudo >/dev/null 2>&1; then
    echo "setup-sandbox: the sandbox needs the Debian packages ${missing[*]}; run as root or install sudo" >&2
    exit 1
  fi
  echo "setup-sandbox: installing the sandbox's Debian packages ${missing[*]} (apt-get${SUDO:+, with sudo})"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -q
  $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
fi
# The Debian package starts a registry service on :5000 that the sandbox does not use.
if command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet docker-registry 2>/dev/null; then
  $SUDO systemctl stop docker-registry || true
fi
echo "sandbox packages: ${packages[*]} present"
