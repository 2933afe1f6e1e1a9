#!/usr/bin/env bash
# Builds errgate with profile-guided optimization (PGO) and prints the binary's path on stdout.
#
#   bench/pgo.sh        -> target/pgo/release/errgate (about 5 minutes on 2 cores)
#
# 1. A release build instrumented to count what runs (-Cprofile-generate), in target/pgo-gen.
# 2. That build proxies the benchmark's workload for ~12 s: the bench's origin (nginx with fixed
#    responses), errgate's bench config at its default log level, and wrk on 100 B, 10 KiB, a
#    500 rewritten into the envelope and the same 500 passed on, at 50 and 200 connections, and
#    a 1 KiB JSON POST.
# 3. The counts are merged with llvm-profdata (rustup's llvm-tools component, installed if
#    missing), and errgate is built again with -Cprofile-use, in target/pgo.
#
# The compiler then lays the request path out as one hot stretch of code and moves the rest
# aside: about half the instruction-cache misses and ~8 % less CPU per proxied request
# (bench/README.md). The container image (deploy/Dockerfile) is built this way, and so is the
# binary bench/run.sh measures unless PGO=0. Only 127.0.0.1 is used.
set -euo pipefail

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_DIR=$(dirname "$BENCH_DIR")
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$BENCH_DIR/lib.sh"

TARGET=${CARGO_TARGET_DIR:-$REPO_DIR/target}
GEN_DIR=$TARGET/pgo-gen
USE_DIR=$TARGET/pgo
TRAIN_SECONDS=${TRAIN_SECONDS:-2}

trap cleanup EXIT
trap 'exit 130' INT TERM

llvm_profdata() {
    local host bin
    host=$(rustc -vV | awk '$1 == "host:" { print $2 }')
    bin=$(rustc --print sysroot)/lib/rustlib/$host/bin/llvm-profdata
    if [[ ! -x $bin ]]; then
        log "installing rustup's llvm-tools component (llvm-profdata)"
        rustup component add llvm-tools >&2 || die "rustup component add llvm-tools failed"
    fi
    [[ -x $bin ]] || die "no llvm-profdata at $bin"
    REPLY=$bin
}

# train BIN — runs the instrumented BIN under the bench workload; its counts land in $WORK/raw.
train() {
    make_bodies
    start_origin
    export LLVM_PROFILE_FILE=$WORK/raw/errgate-%p-%m.profraw
    ERRGATE_BIN=$1
    local port admin pid run path conns post requests
    port=$(free_port)
    admin=$(free_port)
    start_errgate errgate "$port" "$admin" 10s info
    pid=$REPLY
    # PATH:CONNECTIONS:POST_BYTES (empty: GET), as the benchmark's scenarios.
    for run in small:50: large:50: err:50: raw/err:50: small:200: small:50:1024; do
        IFS=: read -r path conns post <<<"$run"
        requests=$(WRK_POST_BYTES=$post wrk -t2 -c"$conns" -d"${TRAIN_SECONDS}s" \
            -s "$BENCH_DIR/wrk_report.lua" "http://127.0.0.1:$port/$path" |
            awk '/requests in/ { print $1 }')
        log "trained on /$path, $conns connections${post:+, POST $post B}: ${requests:-0} requests"
        [[ ${requests:-0} -gt 0 ]] || die "no requests got through errgate on /$path"
    done
    unset LLVM_PROFILE_FILE
    # The counts are written when errgate exits cleanly (SIGTERM drains and returns).
    stop_pid "$pid"
    wait "$pid" || die "the instrumented errgate did not exit cleanly (logs: $WORK)"
}

main() {
    install_debian wrk:wrk nginx:nginx curl:curl python3:python3
    command -v cargo >/dev/null || die "cargo not found"
    llvm_profdata
    local profdata_tool=$REPLY
    WORK=$(mktemp -d /tmp/errgate-pgo.XXXXXX)
    chmod 755 "$WORK" # nginx workers run as nobody and read www/

    log "building errgate instrumented for profiling (release, $GEN_DIR)"
    (cd "$REPO_DIR" && RUSTFLAGS="${RUSTFLAGS:-} -Cprofile-generate=$GEN_DIR/profiles" \
        cargo build --release --locked --quiet --target-dir "$GEN_DIR")
    train "$GEN_DIR/release/errgate"

    compgen -G "$WORK/raw/*.profraw" >/dev/null || die "the training wrote no profile"
    "$profdata_tool" merge -o "$WORK/errgate.profdata" "$WORK"/raw/*.profraw
    # The profile's content names it: a new profile changes RUSTFLAGS, so cargo rebuilds
    # everything with it instead of keeping crates optimized for an older one.
    local sum profdata
    sum=$(sha256sum "$WORK/errgate.profdata" | cut -c1-16)
    mkdir -p "$USE_DIR"
    rm -f "$USE_DIR"/errgate-*.profdata
    profdata=$USE_DIR/errgate-$sum.profdata
    cp "$WORK/errgate.profdata" "$profdata"

    log "building errgate with the profile (release, $USE_DIR)"
    (cd "$REPO_DIR" && RUSTFLAGS="${RUSTFLAGS:-} -Cprofile-use=$profdata" \
        cargo build --release --locked --quiet --target-dir "$USE_DIR")
    [[ -x $USE_DIR/release/errgate ]] || die "no binary at $USE_DIR/release/errgate"
    echo "$USE_DIR/release/errgate"
}

main "$@"
