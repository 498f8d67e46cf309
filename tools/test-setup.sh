#!/usr/bin/env bash
# Installs what the test suite needs beyond the JDK and Maven (called by `latentserve test`):
#   promtool (Debian's prometheus package) to validate the /metrics exposition format;
#   headless Chromium (Debian's chromium and chromium-driver) for the playground's browser tests.
# Installs only when missing and when we may (root with apt-get); otherwise says what to install.
set -uo pipefail

need=()
command -v promtool >/dev/null 2>&1 || need+=(prometheus)
[ -x /usr/bin/chromium ] || need+=(chromium)
[ -x /usr/bin/chromedriver ] || need+=(chromium-driver)

[ ${#need[@]} -eq 0 ] && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "latentserve test: installing ${need[*]} (Debian packages the tests use)..." >&2
    export DEBIAN_FRONTEND=noninteractive
    # policy-rc.d keeps the package from starting a Prometheus server of its own.
    printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d
    apt-get update -qq >/dev/null 2>&1 || true
    apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null 2>&1 \
        || echo "latentserve test: could not install ${need[*]}; the tests that need them will fail" >&2
    rm -f /usr/sbin/policy-rc.d
else
    echo "latentserve test: please install ${need[*]} (e.g. apt-get install ${need[*]}); some tests need them" >&2
fi
exit 0
