#!/usr/bin/env bash
# The README's two set-up commands:
#   bash packaging/dev.sh run [ARGS...]   install what is missing, build, start Lifeline
#   bash packaging/dev.sh test            install what is missing, build, run every test
# Both are idempotent and safe to re-run; builds are incremental and use ccache.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
mode=${1:-}
[[ $# -gt 0 ]] && shift

jobs=$(nproc 2>/dev/null || echo 2)
export CCACHE_MAXSIZE=${CCACHE_MAXSIZE:-3G}
# Share cache hits between clones in different folders (CI clones afresh every run).
export CCACHE_BASEDIR=$root CCACHE_NOHASHDIR=true

configure() {  # configure DIR [cmake args...]
  local dir=$1
  shift
  cmake -S "$root" -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DCMAKE_CXX_COMPILER_LAUNCHER=ccache -DCMAKE_C_COMPILER_LAUNCHER=ccache "$@" >/dev/null
}

case "$mode" in
  run)
    bash packaging/install-deps.sh
    configure build
    cmake --build build --target lifeline -j "$jobs"
    exec build/app/lifeline "$@"
    ;;
  test)
    bash packaging/install-deps.sh
    start=$(date +%s)
    # 1. Unit tests and fuzz replays under AddressSanitizer + UndefinedBehaviorSanitizer.
    configure build-asan -DLIFELINE_SANITIZE=ON -DLIFELINE_BUILD_FRONTENDS=OFF -DLIFELINE_WERROR=ON
    cmake --build build-asan -j "$jobs"
    echo "== unit tests under ASan/UBSan"
    ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
      ctest --test-dir build-asan -L unit --output-on-failure -j "$jobs" --timeout 600
    # 2. libFuzzer (clang) on every parser, a bounded time each (LIFELINE_FUZZ_SECONDS).
    CC=clang CXX=clang++ configure build-fuzz -DLIFELINE_FUZZ=ON -DLIFELINE_BUILD_FRONTENDS=OFF
    cmake --build build-fuzz --target fuzzers -j "$jobs"
    fuzz_seconds=${LIFELINE_FUZZ_SECONDS:-15}
    corpus_root=$(mktemp -d)
    trap 'rm -rf "$corpus_root"' EXIT
    for target in $(cat build-fuzz/fuzz_targets.txt | tr ';' ' '); do
      echo "== libFuzzer: $target for ${fuzz_seconds} s"
      mkdir -p "$corpus_root/$target"
      mkdir -p build-fuzz/artifacts
      if ! ASAN_OPTIONS=detect_leaks=1 build-fuzz/tests/fuzz/"$target" \
          -max_total_time="$fuzz_seconds" -seed=1 -rss_limit_mb=2048 \
          -artifact_prefix=build-fuzz/artifacts/"$target"- "$corpus_root/$target" \
          > "$corpus_root/$target.log" 2>&1; then
        tail -n 60 "$corpus_root/$target.log"
        echo "libFuzzer: $target failed; reproducer in build-fuzz/artifacts/" >&2
        exit 1
      fi
      tail -n 1 "$corpus_root/$target.log"
    done
    # 3. The whole suite (unit, display, integration) on the normal build. Its summary is
    #    the last thing printed.
    configure build -DLIFELINE_WERROR=ON
    cmake --build build -j "$jobs"
    echo "== whole test suite ($(( $(date +%s) - start )) s so far)"
    ctest --test-dir build --output-on-failure -j "$jobs" --timeout 600
    ;;
  *)
    echo "usage: bash packaging/dev.sh run [lifeline arguments...] | test" >&2
    exit 2
    ;;
esac
