#!/usr/bin/env bash
# Builds every fuzz target and runs each for a bounded time; any crash, leak,
# timeout (10 s per input) or out-of-memory fails. Used by .ci/run; run it by
# hand as `bash fuzz/smoke.sh [seconds per target, default 60]`.
#
# Needs cargo-fuzz (`cargo install cargo-fuzz --locked`) and a C++ compiler
# (libfuzzer-sys builds libFuzzer). Works on the stable toolchain: cargo-fuzz
# passes nightly-only `-Z` flags, which RUSTC_BOOTSTRAP=1 allows, and the
# AddressSanitizer runtime ships with rustup's stable rust-std.
set -euo pipefail
cd "$(dirname "$0")"

seconds="${1:-60}"
export RUSTC_BOOTSTRAP=1

targets="$(cargo fuzz list)"
if [ -z "$targets" ]; then
    echo "cargo fuzz list found no fuzz target" >&2
    exit 1
fi

cargo fuzz build --sanitizer address

for target in $targets; do
    echo "--- fuzz target $target: ${seconds}s"
    dict=()
    if [ -f "dicts/$target.dict" ]; then
        dict=("-dict=$PWD/dicts/$target.dict")
    fi
    # The corpus (fuzz/corpus/$target, not committed) grows across local
    # runs; in CI it starts empty. A crash leaves its input in
    # fuzz/artifacts/$target/ and cargo-fuzz prints how to reproduce it.
    if ! cargo fuzz run --sanitizer address "$target" -- \
        -max_total_time="$seconds" -max_len=8192 -timeout=10 -rss_limit_mb=2048 \
        -print_final_stats=1 "${dict[@]}"; then
        echo "fuzz target $target failed; see fuzz/artifacts/$target/ and fuzz/README.md" >&2
        exit 1
    fi
done
