#!/usr/bin/env bash
# Prepares .carry/ (ignored by git) for cuda-kernels/device-check.sh, on a build machine with JDK 25, Maven and
# nvcc: builds the model and native modules (the fatbin goes into the native jar), jlinks a small Java 25
# runtime, and gathers the jars, the test classes, the JUnit console launcher and the golden test data.
# Everything the GPU machine needs, nothing it would have to install; kept under 60 MB.
#
#   cuda-kernels/prepare-device-check.sh            (from anywhere; writes <repo>/.carry)
#   then, on the GPU machine, from the repo root:   cuda-kernels/device-check.sh
#
# JAVA_HOME must be a JDK 25 (it defaults to /usr/lib/jvm/temurin-25-jdk-amd64 when that exists).
# MVN_OFFLINE=0 lets Maven download (the console launcher is fetched from Maven Central if missing).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(dirname "$here")"
carry="$root/.carry"
junit_platform_version=1.14.1
modules=java.base,java.logging,jdk.incubator.vector,jdk.unsupported,jdk.zipfs
limit_bytes=$((60 * 1000 * 1000))

if [ -z "${JAVA_HOME:-}" ] && [ -d /usr/lib/jvm/temurin-25-jdk-amd64 ]; then
    export JAVA_HOME=/usr/lib/jvm/temurin-25-jdk-amd64
fi
: "${JAVA_HOME:?JAVA_HOME must point to a JDK 25}"
offline=-o
[ "${MVN_OFFLINE:-1}" = "0" ] && offline=
testdata="${LATENTSERVE_TESTDATA:-$root/../shared/testdata}/tiny-deepseek-v2-lite"
[ -f "$testdata/model.safetensors" ] || { echo "no golden test data at $testdata" >&2; exit 1; }

echo "== build (model + native with the CUDA kernels, server for the engine-level bench)"
(cd "$root" && mvn -B -q $offline install -DskipTests -pl model,native,server)
native_jar="$(ls "$root"/native/target/latentserve-native-*.jar | grep -v -- '-tests' | head -n 1)"
if ! unzip -Z1 "$native_jar" > "$root/native/target/native-jar.list" \
        || ! grep -q 'io/latentserve/cuda/latentserve_kernels.fatbin' "$root/native/target/native-jar.list"; then
    echo "$native_jar has no fatbin: was nvcc found? (see the build output)" >&2
    exit 1
fi

echo "== .carry"
rm -rf "$carry"
mkdir -p "$carry/lib"
cp "$native_jar" "$carry/lib/"
# The server jar alone (no Helidon): the engine-level bench uses only its engine, which needs model + native.
cp "$root/server/target/latentserve.jar" "$carry/lib/latentserve-server.jar"
(cd "$root/native/target/test-classes" && "$JAVA_HOME/bin/jar" --create --file "$carry/lib/latentserve-native-gpu-tests.jar" .)
# The test class path without JUnit (the console launcher brings its own, same version) and without what
# only the chat templates need (jinjava and its dependencies: no GPU test renders a prompt).
(cd "$root" && mvn -B -q $offline dependency:build-classpath -pl native -Dmdep.includeScope=test \
    -Dmdep.outputFile="$carry/classpath.txt")
tr ':' '\n' < "$carry/classpath.txt" \
    | grep -E '/(latentserve-model|jackson-databind|jackson-core|jackson-annotations)[^/]*\.jar$' \
    | while read -r jar; do cp "$jar" "$carry/lib/"; done
rm "$carry/classpath.txt"
# The model jar carries the built-in demo model (tens of MB) that no GPU test loads: leave it behind.
model_jar="$(ls "$carry"/lib/latentserve-model-*.jar | grep -v -- '-tests' | head -n 1)"
unzip -Z1 "$model_jar" > "$carry/model-jar.list"
if grep -q '^io/latentserve/model/demo/' "$carry/model-jar.list"; then
    slim="$(mktemp -d)"
    (cd "$slim" && unzip -q "$model_jar" && rm -rf io/latentserve/model/demo \
        && "$JAVA_HOME/bin/jar" --create --file "$model_jar.slim" --manifest META-INF/MANIFEST.MF -C "$slim" .)
    mv "$model_jar.slim" "$model_jar"
    rm -rf "$slim"
fi
rm "$carry/model-jar.list"

console="$HOME/.m2/repository/org/junit/platform/junit-platform-console-standalone/$junit_platform_version/junit-platform-console-standalone-$junit_platform_version.jar"
if [ ! -f "$console" ]; then
    (cd "$root" && mvn -B -q dependency:get -Dartifact="org.junit.platform:junit-platform-console-standalone:$junit_platform_version")
fi
cp "$console" "$carry/junit-platform-console-standalone.jar"

echo "== jlink ($modules)"
"$JAVA_HOME/bin/jlink" --add-modules "$modules" --strip-native-debug-symbols=exclude-debuginfo-files \
    --strip-java-debug-attributes --no-man-pages --no-header-files --compress=zip-0 --output "$carry/jdk" 2>&1 \
    | grep -v 'incubator modules' || true
XZ_OPT=-9 tar cJf "$carry/jdk.txz" -C "$carry" jdk
rm -rf "$carry/jdk"

echo "== golden test data"
mkdir -p "$carry/testdata-stage/tiny-deepseek-v2-lite"
cp "$testdata"/{README.md,config.json,golden.json,model.safetensors,tokenizer.json} "$testdata"/logits_step0_*.f32 \
    "$carry/testdata-stage/tiny-deepseek-v2-lite/"
XZ_OPT=-9 tar cJf "$carry/testdata.txz" -C "$carry/testdata-stage" tiny-deepseek-v2-lite
rm -rf "$carry/testdata-stage"

cp "$root/native/target/ptxas-summary.txt" "$carry/" 2>/dev/null || true
{
    echo "commit $(cd "$root" && git rev-parse --short HEAD)$(cd "$root" && git diff --quiet -- cuda-kernels native || echo ' (+ local changes)')"
    echo "built $(date -u +%Y-%m-%dT%H:%M:%SZ) with $("$JAVA_HOME/bin/java" -version 2>&1 | head -n 1)"
    (cd "$carry" && find . -type f | sort | xargs ls -l | awk '{print $5, $9}')
} > "$carry/MANIFEST"

size=$(du -sb "$carry" | cut -f1)
cat "$carry/MANIFEST"
echo ".carry: $size bytes ($(du -sh "$carry" | cut -f1))"
if [ "$size" -gt "$limit_bytes" ]; then
    echo ".carry is over the $limit_bytes byte budget" >&2
    exit 1
fi
