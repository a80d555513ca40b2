#!/usr/bin/env bash
# The RTMP server the live-output tests push to (tests/e2e_live.rs): nginx with the RTMP
# module from Debian (nginx-light + libnginx-mod-rtmp). The tests start their own nginx
# on loopback with a generated config (tests/common/rtmp.rs); the Debian service is not
# used and is stopped if the package started it.
set -euo pipefail
if dpkg -s nginx-light libnginx-mod-rtmp >/dev/null 2>&1; then
  echo "install-live-test-deps: nginx with the RTMP module present"
  exit 0
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends nginx-light libnginx-mod-rtmp
# The package's own service is not what the tests run.
(systemctl stop nginx || service nginx stop || true) >/dev/null 2>&1
