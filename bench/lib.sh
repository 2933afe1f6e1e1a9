# shellcheck shell=bash
# Helpers for bench/run.sh: installing, starting and stopping processes, pinning, and reading
# /proc. Sourced, not run. Every wait here is bounded.

# PIDs this run started; cleanup() stops exactly these (never by name).
STARTED_PIDS=()
# A policy-rc.d we wrote ourselves (so Debian's postinst does not start system services).
OUR_POLICY_RC=""

log() { printf '[bench %(%H:%M:%S)T] %s\n' -1 "$*" >&2; }
die() { log "error: $*"; exit 1; }

as_root() {
    if [[ $(id -u) -eq 0 ]]; then "$@"; else sudo "$@"; fi
}

# install_debian CMD:PACKAGE... — apt-get installs the packages whose command is missing.
install_debian() {
    local want=() pair
    for pair in "$@"; do
        command -v "${pair%%:*}" >/dev/null 2>&1 || want+=("${pair#*:}")
    done
    [[ ${#want[@]} -eq 0 ]] && return 0
    log "installing from Debian: ${want[*]}"
    # nginx's and HAProxy's postinst would start the system services: forbid that while we
    # install (the benchmark runs its own instances on loopback).
    if [[ ! -e /usr/sbin/policy-rc.d ]]; then
        printf '#!/bin/sh\nexit 101\n' | as_root tee /usr/sbin/policy-rc.d >/dev/null
        as_root chmod +x /usr/sbin/policy-rc.d
        OUR_POLICY_RC=/usr/sbin/policy-rc.d
    fi
    as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
        "${want[@]}" >/dev/null
    if [[ -n $OUR_POLICY_RC ]]; then
        as_root rm -f "$OUR_POLICY_RC"
        OUR_POLICY_RC=""
    fi
}

# A free TCP port on 127.0.0.1 (the kernel picks it; the tiny race is acceptable here).
free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# render TEMPLATE OUT KEY=VALUE... — replaces @KEY@ with VALUE (values must not contain '|').
render() {
    local tmpl=$1 out=$2 kv args=()
    shift 2
    for kv in "$@"; do
        args+=(-e "s|@${kv%%=*}@|${kv#*=}|g")
    done
    sed "${args[@]}" "$tmpl" >"$out"
    if grep -q '@[A-Z_]*@' "$out"; then
        die "unfilled placeholder in $out: $(grep -o '@[A-Z_]*@' "$out" | head -1)"
    fi
}

# wait_http URL [SECONDS] — until URL answers at all (any status), bounded.
wait_http() {
    local url=$1 limit=${2:-10} i
    for ((i = 0; i < limit * 10; i++)); do
        curl -s -o /dev/null --max-time 1 "$url" && return 0
        sleep 0.1
    done
    die "nothing answers at $url after ${limit}s (logs: ${WORK:-?}, KEEP_WORK=1 keeps them)"
}

# stop_pid PID — SIGTERM, up to 5 s grace, then SIGKILL. Only for PIDs we started.
stop_pid() {
    local pid=$1 i
    kill -0 "$pid" 2>/dev/null || return 0
    kill -TERM "$pid" 2>/dev/null || true
    for ((i = 0; i < 50; i++)); do
        kill -0 "$pid" 2>/dev/null || return 0
        sleep 0.1
    done
    kill -KILL "$pid" 2>/dev/null || true
}

cleanup() {
    local pid
    for pid in "${STARTED_PIDS[@]}"; do
        stop_pid "$pid"
    done
    for pid in "${STARTED_PIDS[@]}"; do
        wait "$pid" 2>/dev/null || true
    done
    if [[ -n $OUR_POLICY_RC ]]; then
        as_root rm -f "$OUR_POLICY_RC" || true
    fi
    if [[ -n ${WORK:-} && -d $WORK && ${KEEP_WORK:-0} != 1 ]]; then
        rm -rf "$WORK"
    fi
}

# Child PIDs of an nginx master (its workers), by parent PID.
children_of() {
    local kids
    kids=$(cat /proc/"$1"/task/*/children 2>/dev/null || true)
    # shellcheck disable=SC2086 # word splitting intended: one PID per word
    echo $kids
}

# pin CPULIST PID... — sets the affinity of every thread of every PID.
pin() {
    local cpus=$1 pid
    shift
    for pid in "$@"; do
        taskset -a -p -c "$cpus" "$pid" >/dev/null
    done
}

# cpu_ticks PID... — "UTIME STIME" (clock ticks), each summed; fields 14 and 15 of
# /proc/PID/stat, counted after the ")" that ends the command name.
cpu_ticks() {
    local pid user=0 sys=0 rest fields
    for pid in "$@"; do
        rest=$(<"/proc/$pid/stat")
        read -ra fields <<<"${rest##*) }"
        # fields[0] is field 3 (state), so utime (14) and stime (15) are [11] and [12].
        user=$((user + fields[11]))
        sys=$((sys + fields[12]))
    done
    echo "$user $sys"
}

# core_ticks — "BUSY0 ALL0 BUSY1 ALL1": busy and total clock ticks of cores 0 and 1 since boot
# (/proc/stat; busy is everything but idle and iowait).
core_ticks() {
    awk '$1 == "cpu0" || $1 == "cpu1" {
        all = 0; for (i = 2; i <= NF; i++) all += $i
        printf "%d %d ", all - $5 - $6, all
    } END { print "" }' /proc/stat
}

# status_kb FIELD PID... — a /proc/PID/status field in kB (VmHWM, VmRSS), summed.
status_kb() {
    local field=$1 pid total=0 v
    shift
    for pid in "$@"; do
        v=$(awk -v f="$field:" '$1 == f { print $2 }' "/proc/$pid/status")
        total=$((total + ${v:-0}))
    done
    echo "$total"
}

# reset_peak PID... — resets VmHWM to the current RSS (Linux >= 4.0), so each run's peak is
# its own and not the whole benchmark's.
reset_peak() {
    local pid
    for pid in "$@"; do
        echo 5 >"/proc/$pid/clear_refs" 2>/dev/null || true
    done
}

# fd_count PID — open file descriptors of a process.
fd_count() {
    find "/proc/$1/fd" -mindepth 1 -maxdepth 1 | wc -l
}

# foreign_busy — processes not started by this run using >= 10 % CPU right now (top's snapshot),
# or "none".
foreign_busy() {
    local ours=" ${STARTED_PIDS[*]} ${NGINX_WORKERS:-} ${ORIGIN_WORKERS:-} $$ $BASHPID "
    local busy
    busy=$(top -bn1 -w 200 | awk -v ours="$ours" \
        'NR > 7 && $9 + 0 >= 10 && $12 != "top" && index(ours, " " $1 " ") == 0 { printf "%s %s%%, ", $12, $9 }')
    echo "${busy:-none}"
}

# listen_overflows — the kernel's count of connections dropped by a full accept queue.
listen_overflows() {
    awk '$1 == "TcpExt:" { if (!h) { for (i = 2; i <= NF; i++) if ($i == "ListenOverflows") c = i; h = 1 } else { print $c + 0; exit } }' /proc/net/netstat
}

# origin_accepts URL — the origin's accepted-connections counter (nginx stub_status).
origin_accepts() {
    curl -s --max-time 2 "$1" | awk 'NR == 3 { print $1 }'
}

# Bodies: exactly 100 bytes of text, 10 KiB of bytes, and a 400-byte HTML error page. No '"',
# '$', '|' or '&' in the inline ones (they go into nginx strings through sed).
make_bodies() {
    SMALL_BODY=$(printf 'errgate-bench-%086d' 0)
    ERR_BODY='<!DOCTYPE html><html><head><title>500 Internal Server Error</title></head><body><h1>Internal Server Error</h1><p>The server encountered an internal error and was unable to complete your request. Either the server is overloaded or there is an error in the application.</p><hr><address>origin/1.0 at 127.0.0.1</address><p>'
    local end='</p></body></html>'
    ERR_BODY+=$(printf '%*s' $((400 - ${#ERR_BODY} - ${#end})) '' | tr ' ' '.')$end
    [[ ${#SMALL_BODY} -eq 100 && ${#ERR_BODY} -eq 400 ]] || die "body sizes are wrong"
    mkdir -p "$WORK/www" "$WORK/tmp"
    head -c 10240 /dev/urandom >"$WORK/www/large.bin"
}

start_nginx() { # NAME CONF -> PID in $REPLY
    nginx -p "$WORK" -c "$2" -e "$WORK/$1.error.log" -g 'daemon off;' 2>>"$WORK/$1.stderr" &
    REPLY=$!
    STARTED_PIDS+=("$REPLY")
}

# start_origin — the fixed-response nginx every target proxies to (after make_bodies): sets
# ORIGIN_PORT, ORIGIN_PID and ORIGIN_STATUS (its stub_status URL).
start_origin() {
    ORIGIN_PORT=$(free_port)
    ORIGIN_STATUS=http://127.0.0.1:$ORIGIN_PORT/origin_status
    render "$BENCH_DIR/configs/origin.nginx.conf.tmpl" "$WORK/origin.conf" \
        DIR="$WORK" ORIGIN_PORT="$ORIGIN_PORT" SMALL_BODY="$SMALL_BODY" ERR_BODY="$ERR_BODY"
    start_nginx origin "$WORK/origin.conf"
    # shellcheck disable=SC2034 # used by run.sh
    ORIGIN_PID=$REPLY
    wait_http "$ORIGIN_STATUS" 10
}

start_errgate() { # NAME PORT ADMIN_PORT HEADER_READ_TIMEOUT LOG_LEVEL -> PID in $REPLY
    local name=$1
    render "$BENCH_DIR/configs/errgate.toml.tmpl" "$WORK/$name.toml" \
        ERRGATE_PORT="$2" ADMIN_PORT="$3" ORIGIN_PORT="$ORIGIN_PORT" HEADER_READ_TIMEOUT="$4"
    # errgate logs one JSON access line per request on stdout at info: it goes to /dev/null,
    # but it is still formatted and written (errgate-warn measures the difference).
    env -u RUST_LOG ERRGATE_LOG="$5" "$ERRGATE_BIN" --config "$WORK/$name.toml" \
        >/dev/null 2>>"$WORK/$name.stderr" &
    REPLY=$!
    STARTED_PIDS+=("$REPLY")
    wait_http "http://127.0.0.1:$3/healthz" 15
}
