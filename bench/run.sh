#!/usr/bin/env bash
# errgate against nginx and HAProxy, side by side in one run (issue 6). See bench/README.md.
#
#   bench/run.sh                 full run, about 10 minutes (plus ~5 for the PGO build)
#   QUICK=1 bench/run.sh         smoke run (1 repetition, 2 s cells, short idle hold)
#
# Environment: DURATION (seconds per cell), REPS (repetitions, >= 3 for a real result),
# ERRGATE_BIN (skip the build), PGO=0 (a plain release build instead of the profile-guided one
# the container image ships, bench/pgo.sh), IDLE_CONNS (default 10000), PROFILE=1 (perf profile of
# errgate in the 100 B pinned scenario, written beside the results), BUDGET_SECONDS (hard cap on
# the measuring loop, default 840), KEEP_WORK=1 (keep the temp dir with configs and logs),
# BENCH_LAYOUTS / BENCH_SCENARIOS (a subset, for experiments: "pinned", "small50 err50").
# Only 127.0.0.1 is ever targeted.
set -euo pipefail

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_DIR=$(dirname "$BENCH_DIR")
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$BENCH_DIR/lib.sh"

QUICK=${QUICK:-0}
if [[ $QUICK == 1 ]]; then
    DURATION=${DURATION:-2}
    REPS=${REPS:-1}
else
    # Five short repetitions rather than three long ones: on a shared VM a slow spell of a few
    # seconds hits one run in five, and the median of five shrugs it off.
    DURATION=${DURATION:-2}
    REPS=${REPS:-5}
fi
IDLE_CONNS=${IDLE_CONNS:-10000}
IDLE_HOLD=${IDLE_HOLD:-30} # longest hold; released as soon as measured
PROFILE=${PROFILE:-0}
PGO=${PGO:-1}
BUDGET_SECONDS=${BUDGET_SECONDS:-840}
WARMUP=1          # seconds of load before a scenario's first repetition (fills the pools)
SETTLE=0.5        # pause between runs
# A cell whose fastest and slowest runs differ by more than this factor is not reported.
UNSTABLE_RATIO=1.5

# Scenarios: name:path:connections. Targets per path. Layouts and the scenarios each runs.
declare -A SCEN_PATH=([small50]=small [small200]=small [large50]=large [err50]=err [post50]=small)
declare -A SCEN_CONNS=([small50]=50 [small200]=200 [large50]=50 [err50]=50 [post50]=50)
# POST scenarios: the JSON body's size (the 100 B answer is the same).
declare -A SCEN_POST_BYTES=([post50]=1024)
declare -A PATH_TARGETS=(
    [small]="direct errgate errgate-warn nginx nginx-log haproxy"
    [large]="direct errgate errgate-warn nginx nginx-log haproxy"
    [err]="direct errgate errgate-raw nginx haproxy"
)
declare -A LAYOUT_SCENARIOS=(
    [pinned]="small50 large50 err50 post50"
    [unpinned]="small50 small200 large50 err50"
)
read -ra LAYOUTS <<<"${BENCH_LAYOUTS:-pinned unpinned}"
# BENCH_SCENARIOS (e.g. "small50 err50") keeps only those scenarios: for quick experiments.
if [[ -n ${BENCH_SCENARIOS:-} ]]; then
    for layout in "${!LAYOUT_SCENARIOS[@]}"; do
        kept=""
        for scen in ${LAYOUT_SCENARIOS[$layout]}; do
            [[ " $BENCH_SCENARIOS " == *" $scen "* ]] && kept+="$scen "
        done
        LAYOUT_SCENARIOS[$layout]=$kept
    done
fi

START_TS=$(date +%s)
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---------------------------------------------------------------------------------------------
# Set-up

install_tools() {
    install_debian wrk:wrk nginx:nginx haproxy:haproxy curl:curl python3:python3 \
        taskset:util-linux
    if [[ $PROFILE == 1 ]]; then
        install_debian perf:linux-perf
    fi
}

build_errgate() {
    if [[ -n ${ERRGATE_BIN:-} ]]; then
        [[ -x $ERRGATE_BIN ]] || die "ERRGATE_BIN=$ERRGATE_BIN is not executable"
        ERRGATE_BUILD="given as ERRGATE_BIN=$ERRGATE_BIN"
        return
    fi
    command -v cargo >/dev/null || die "cargo not found (or set ERRGATE_BIN)"
    if [[ $PGO == 1 ]]; then
        # The build the container image ships: profile-guided (bench/pgo.sh).
        log "building errgate (release, profile-guided: bench/pgo.sh)"
        ERRGATE_BIN=$("$BENCH_DIR/pgo.sh")
        ERRGATE_BUILD="profile-guided release build (bench/pgo.sh)"
        return
    fi
    log "building errgate (release)"
    (cd "$REPO_DIR" && cargo build --release --locked --quiet)
    ERRGATE_BIN=${CARGO_TARGET_DIR:-$REPO_DIR/target}/release/errgate
    ERRGATE_BUILD="release build without profile (PGO=0)"
    [[ -x $ERRGATE_BIN ]] || die "no binary at $ERRGATE_BIN"
}

start_all() {
    start_origin
    NGINX_PORT=$(free_port)
    NGINX_LOG_PORT=$(free_port)
    HAPROXY_PORT=$(free_port)
    ERRGATE_PORT=$(free_port)
    ERRGATE_ADMIN=$(free_port)
    WARN_PORT=$(free_port)
    WARN_ADMIN=$(free_port)

    render "$BENCH_DIR/configs/proxy.nginx.conf.tmpl" "$WORK/nginx-proxy.conf" \
        DIR="$WORK" ORIGIN_PORT="$ORIGIN_PORT" NGINX_PORT="$NGINX_PORT" \
        NGINX_LOG_PORT="$NGINX_LOG_PORT"
    start_nginx nginx-proxy "$WORK/nginx-proxy.conf"
    NGINX_PID=$REPLY
    wait_http "http://127.0.0.1:$NGINX_PORT/small" 10

    render "$BENCH_DIR/configs/haproxy.cfg.tmpl" "$WORK/haproxy.cfg" \
        DIR="$WORK" ORIGIN_PORT="$ORIGIN_PORT" HAPROXY_PORT="$HAPROXY_PORT"
    haproxy -f "$WORK/haproxy.cfg" -db >>"$WORK/haproxy.log" 2>&1 &
    HAPROXY_PID=$!
    STARTED_PIDS+=("$HAPROXY_PID")
    wait_http "http://127.0.0.1:$HAPROXY_PORT/small" 10

    start_errgate errgate "$ERRGATE_PORT" "$ERRGATE_ADMIN" 10s info
    ERRGATE_PID=$REPLY
    start_errgate errgate-warn "$WARN_PORT" "$WARN_ADMIN" 10s warn
    WARN_PID=$REPLY

    NGINX_WORKERS=$(children_of "$NGINX_PID")
    ORIGIN_WORKERS=$(children_of "$ORIGIN_PID")
    [[ -n $NGINX_WORKERS && -n $ORIGIN_WORKERS ]] || die "nginx workers not found"

    declare -gA BASE=(
        [direct]=http://127.0.0.1:$ORIGIN_PORT
        [errgate]=http://127.0.0.1:$ERRGATE_PORT
        [errgate-warn]=http://127.0.0.1:$WARN_PORT
        [errgate-raw]=http://127.0.0.1:$ERRGATE_PORT/raw
        [nginx]=http://127.0.0.1:$NGINX_PORT
        [nginx-log]=http://127.0.0.1:$NGINX_LOG_PORT
        [haproxy]=http://127.0.0.1:$HAPROXY_PORT
    )
    # The processes whose CPU and memory are the proxy's (none for direct).
    declare -gA PROXY_PIDS=(
        [direct]=""
        [errgate]=$ERRGATE_PID
        [errgate-warn]=$WARN_PID
        [errgate-raw]=$ERRGATE_PID
        [nginx]=$NGINX_WORKERS
        [nginx-log]=$NGINX_WORKERS
        [haproxy]=$HAPROXY_PID
    )
}

# Every target answers every path it is measured on as expected, before anything is timed.
sanity_check() {
    local target path status body expect
    for path in small large err; do
        for target in ${PATH_TARGETS[$path]}; do
            body=$WORK/sanity.body
            status=$(curl -s -o "$body" -w '%{http_code}' --max-time 5 "${BASE[$target]}/$path")
            case $target:$path in
                *:small) expect="200 size=100" ;;
                *:large) expect="200 size=10240" ;;
                direct:err | errgate-raw:err) expect="500 html" ;;
                *:err) expect="500 json" ;;
            esac
            local got="$status"
            case $expect in
                *size=*) got+=" size=$(stat -c %s "$body")" ;;
                *html) grep -q '<html>' "$body" && got+=" html" ;;
                *json) grep -Eq '^\{"success": ?false' "$body" && got+=" json" ;;
            esac
            [[ $got == "$expect" ]] ||
                die "sanity: $target /$path: expected '$expect', got '$got': $(head -c 200 "$body")"
        done
    done
    log "sanity: every target answers as expected"
}

# ---------------------------------------------------------------------------------------------
# Measuring

set_layout() {
    local all_proxies
    all_proxies="$ERRGATE_PID $WARN_PID $NGINX_PID $NGINX_WORKERS $HAPROXY_PID"
    # shellcheck disable=SC2086 # PID lists
    case $1 in
        pinned)
            pin 0 $all_proxies
            pin 1 "$ORIGIN_PID" $ORIGIN_WORKERS
            WRK_PREFIX=(taskset -c 1)
            WRK_THREADS=1
            ;;
        unpinned)
            pin 0-1 $all_proxies "$ORIGIN_PID" $ORIGIN_WORKERS
            WRK_PREFIX=(taskset -c 0-1)
            WRK_THREADS=2
            ;;
    esac
}

# wrk_run TARGET SCENARIO SECONDS -> wrk's output in $REPLY
wrk_run() {
    local target=$1 scen=$2 secs=$3 path
    path=${SCEN_PATH[$scen]}
    REPLY=$(WRK_POST_BYTES=${SCEN_POST_BYTES[$scen]:-} timeout $((secs + 20)) \
        "${WRK_PREFIX[@]}" wrk -t"$WRK_THREADS" \
        -c"${SCEN_CONNS[$scen]}" -d"${secs}s" --latency -s "$BENCH_DIR/wrk_report.lua" \
        "${BASE[$target]}/$path") || die "wrk failed against $target /$path: $REPLY"
}

measure() { # LAYOUT SCENARIO TARGET REP
    local layout=$1 scen=$2 target=$3 rep=$4 pids acc0 acc1 hwm=0 json
    local u0=0 s0=0 u1=0 s1=0 c0 c1
    pids=${PROXY_PIDS[$target]}
    acc0=$(origin_accepts "$ORIGIN_STATUS")
    if [[ -n $pids ]]; then
        # shellcheck disable=SC2086
        reset_peak $pids
        # shellcheck disable=SC2086
        read -r u0 s0 < <(cpu_ticks $pids)
    fi
    read -ra c0 < <(core_ticks)
    wrk_run "$target" "$scen" "$DURATION"
    read -ra c1 < <(core_ticks)
    if [[ -n $pids ]]; then
        # shellcheck disable=SC2086
        read -r u1 s1 < <(cpu_ticks $pids)
        # shellcheck disable=SC2086
        hwm=$(status_kb VmHWM $pids)
    fi
    acc1=$(origin_accepts "$ORIGIN_STATUS")
    json=$(sed -n 's/^WRKJSON //p' <<<"$REPLY")
    [[ -n $json ]] || die "no summary from wrk: $REPLY"
    # The second stub_status request's own connection is in acc1: not the proxy's.
    printf '{"layout": "%s", "scenario": "%s", "target": "%s", "rep": %d, "has_proxy": %s, "cpu_ticks": %d, "user_ticks": %d, "core_busy": [%d, %d], "core_all": [%d, %d], "hwm_kb": %d, "origin_conns": %d, "wrk": %s}\n' \
        "$layout" "$scen" "$target" "$rep" "$([[ -n $pids ]] && echo true || echo false)" \
        $((u1 + s1 - u0 - s0)) $((u1 - u0)) $((c1[0] - c0[0])) $((c1[2] - c0[2])) \
        $((c1[1] - c0[1])) $((c1[3] - c0[3])) "$hwm" $((acc1 - acc0 - 1)) "$json" >>"$RUNS"
    log "$(printf '%-8s %-8s %-12s rep %d: %s' "$layout" "$scen" "$target" "$rep" \
        "$(grep -E 'Requests/sec' <<<"$REPLY" | tr -s ' ')")"
}

# Order of targets for a repetition: rotated by the repetition number, reversed every other one,
# so no target always runs first or right after the same neighbour.
ordered() { # REP TARGET...
    local rep=$1 n i
    shift
    local list=("$@") rotated=()
    n=${#list[@]}
    for ((i = 0; i < n; i++)); do
        rotated+=("${list[$(((i + rep) % n))]}")
    done
    if ((rep % 2 == 1)); then
        for ((i = n - 1; i >= 0; i--)); do printf '%s ' "${rotated[$i]}"; done
    else
        printf '%s ' "${rotated[@]}"
    fi
}

# The budget counts from the first measured run: the build (several minutes for the
# profile-guided one) and the set-up are not in it.
over_budget() {
    (($(date +%s) - MATRIX_TS > BUDGET_SECONDS))
}

run_matrix() {
    local layout scen target rep skipped=0
    for layout in "${LAYOUTS[@]}"; do
        set_layout "$layout"
        for scen in ${LAYOUT_SCENARIOS[$layout]}; do
            for target in ${PATH_TARGETS[${SCEN_PATH[$scen]}]}; do
                wrk_run "$target" "$scen" "$WARMUP"
            done
        done
        for ((rep = 1; rep <= REPS; rep++)); do
            FOREIGN+="$layout rep $rep: $(foreign_busy) "$'\n'
            for scen in ${LAYOUT_SCENARIOS[$layout]}; do
                # shellcheck disable=SC2046,SC2086 # the ordered list of targets
                for target in $(ordered "$rep" ${PATH_TARGETS[${SCEN_PATH[$scen]}]}); do
                    if over_budget; then
                        skipped=$((skipped + 1))
                        continue
                    fi
                    measure "$layout" "$scen" "$target" "$rep"
                    sleep "$SETTLE"
                done
            done
        done
    done
    if ((skipped > 0)); then
        log "time budget of ${BUDGET_SECONDS}s spent: $skipped runs skipped"
        echo "$skipped runs were skipped: the ${BUDGET_SECONDS}s time budget was spent." >>"$NOTES"
    fi
}

# 10,000 fresh, silent TCP connections held against a separate errgate; its RSS per connection.
idle_scenario() {
    local port admin pid client ready release rss0 rss1 fds0 fds opened i t0 code ms ovf0 ovf1
    port=$(free_port)
    admin=$(free_port)
    # header_read_timeout 60s: the connections are held for up to IDLE_HOLD s after they are all
    # open, which on a busy machine could race the default 10 s timer. Each connection still has
    # that timer armed, as in production, so its memory is counted.
    start_errgate errgate-idle "$port" "$admin" 60s info
    pid=$REPLY
    curl -s -o /dev/null --max-time 5 "http://127.0.0.1:$port/small"
    sleep 0.5
    rss0=$(status_kb VmRSS "$pid")
    fds0=$(fd_count "$pid")
    ovf0=$(listen_overflows)
    ready=$WORK/idle.ready
    release=$WORK/idle.release
    python3 "$BENCH_DIR/idle_conns.py" --port "$port" --count "$IDLE_CONNS" --hold "$IDLE_HOLD" \
        --deadline $((IDLE_HOLD + 60)) --ready-file "$ready" --release-file "$release" \
        >"$WORK/idle.client.json" &
    client=$!
    STARTED_PIDS+=("$client")
    for ((i = 0; i < 400; i++)); do
        [[ -e $ready ]] && break
        sleep 0.1
    done
    [[ -e $ready ]] || die "idle client did not open its connections in 40 s"
    opened=$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["opened"])' "$ready")
    # Wait (bounded) until errgate has accepted them, or its count stops growing for 2 s: a
    # connection still in the kernel's accept queue costs errgate nothing yet, and one whose
    # final ACK was dropped by a full accept queue (ListenOverflows) never reaches it.
    local last=-1 still=0
    for ((i = 0; i < 150 && still < 20; i++)); do
        fds=$(fd_count "$pid")
        ((fds - fds0 >= opened)) && break
        if ((fds == last)); then still=$((still + 1)); else still=0; fi
        last=$fds
        sleep 0.1
    done
    sleep 1
    fds=$(fd_count "$pid")
    rss1=$(status_kb VmRSS "$pid")
    t0=$(date +%s%N)
    code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 "http://127.0.0.1:$port/small" || true)
    ms=$((($(date +%s%N) - t0) / 1000000))
    ovf1=$(listen_overflows)
    touch "$release"
    wait "$client" || die "idle client failed"
    python3 - "$ready" "$WORK/idle.client.json" "$rss0" "$rss1" "$((fds - fds0))" "$code" "$ms" \
        "$IDLE_CONNS" "$((ovf1 - ovf0))" >"$IDLE" <<'EOF'
import json, sys
ready, done = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
rss0, rss1, accepted, code, ms, want, overflows = (int(x) for x in sys.argv[3:10])
print(json.dumps({"wanted": want, "opened": ready["opened"], "failed": ready["failed"],
                  "open_seconds": ready["seconds"], "accepted": accepted,
                  "listen_overflows": overflows,
                  "held_seconds": done["held_seconds"], "rss_before_kb": rss0,
                  "rss_with_kb": rss1, "closed_by_server": done["closed_by_server"],
                  "request_status": code, "request_ms": ms}))
EOF
    stop_pid "$pid"
    log "idle: $(cat "$IDLE")"
}

# Optional (PROFILE=1): where errgate's CPU goes in the 100 B pinned scenario. Three short
# passes under the same load as the table: syscalls per request (perf stat on syscall
# tracepoints), a DWARF call-graph profile summarised by perf_summary.py, and malloc calls per
# request (a uprobe on libc's malloc, removed afterwards).
profile_errgate() {
    local out=$1 secs=$DURATION wrk_pid n libc ev s
    set_layout pinned
    log "profiling errgate (100 B, pinned): perf stat, perf record, malloc uprobe"
    wrk_run errgate small50 1
    {
        echo "# errgate profile, 100 B, 50 connections, pinned layout"
        echo
        echo "errgate $("$ERRGATE_BIN" --version | awk '{ print $2 }'), load average $(cut -d' ' -f1-3 /proc/loadavg)"
    } >"$out"

    # 1. Syscalls per request, errgate and nginx: perf stat covers the whole wrk run, so
    # count / requests is exact.
    ev=""
    for s in read write writev readv recvfrom sendto recvmsg sendmsg epoll_wait epoll_ctl futex \
        accept4 close ioctl getsockopt; do
        ev+="syscalls:sys_enter_$s,"
    done
    local target stat_pid pids
    for target in errgate nginx; do
        pids=${PROXY_PIDS[$target]}
        perf stat -x, -e "${ev%,}" -p "${pids// /,}" -o "$WORK/perf-stat-$target.csv" -- \
            sleep $((secs + 2)) 2>>"$WORK/perf.log" &
        stat_pid=$!
        STARTED_PIDS+=("$stat_pid")
        sleep 0.5
        wrk_run "$target" small50 "$secs"
        n=$(sed -n 's/^WRKJSON //p' <<<"$REPLY" | python3 -c 'import json, sys; print(json.load(sys.stdin)["requests"])')
        wait "$stat_pid" || true
        {
            echo
            echo "## Syscalls per request, $target ($n requests)"
            echo
            awk -F, -v n="$n" '$1 ~ /^[0-9]+$/ && $1 / n >= 0.005 { sub("syscalls:sys_enter_", "", $3); printf "- %s: %.2f\n", $3, $1 / n }' "$WORK/perf-stat-$target.csv"
        } >>"$out"
    done

    # 2. Call-graph profile (DWARF unwinding: the release binary has no frame pointers).
    "${WRK_PREFIX[@]}" wrk -t1 -c50 -d"$((secs + 2))s" "${BASE[errgate]}/small" >/dev/null &
    wrk_pid=$!
    STARTED_PIDS+=("$wrk_pid")
    sleep 1
    perf record -q -F 499 --call-graph dwarf,16384 -p "$ERRGATE_PID" -o "$WORK/perf.data" -- \
        sleep "$secs" 2>>"$WORK/perf.log" || true
    wait "$wrk_pid" || true
    perf script -i "$WORK/perf.data" -F comm,tid,ip,sym 2>/dev/null >"$WORK/perf.script" || true
    {
        echo
        echo "## Where the CPU goes (perf record --call-graph dwarf)"
        echo
        echo '```'
        python3 "$BENCH_DIR/perf_summary.py" "$WORK/perf.script"
        echo '```'
        echo
        echo "## Top symbols (self time)"
        echo
        echo '```'
        perf report -i "$WORK/perf.data" --no-children --percent-limit 0.7 --stdio \
            --sort dso,symbol -g none 2>/dev/null | grep '%' | cut -c1-150 | sed 's/ *$//' | head -40
        echo '```'
    } >>"$out"

    # 3. malloc calls per request (uprobe on libc; skipped when perf probe is not allowed).
    libc=$(awk '$NF ~ /libc\.so/ { print $NF; exit }' "/proc/$ERRGATE_PID/maps")
    if [[ -n $libc ]] && perf probe -q -x "$libc" -a errgate_bench_malloc=malloc 2>>"$WORK/perf.log"; then
        perf stat -x, -e probe_libc:errgate_bench_malloc -p "$ERRGATE_PID" \
            -o "$WORK/malloc.csv" -- sleep $((secs + 2)) 2>>"$WORK/perf.log" &
        stat_pid=$!
        STARTED_PIDS+=("$stat_pid")
        sleep 0.5
        wrk_run errgate small50 "$secs"
        n=$(sed -n 's/^WRKJSON //p' <<<"$REPLY" | python3 -c 'import json, sys; print(json.load(sys.stdin)["requests"])')
        wait "$stat_pid" || true
        perf probe -q -d probe_libc:errgate_bench_malloc 2>>"$WORK/perf.log" || true
        {
            echo
            echo "## Allocation"
            echo
            awk -F, -v n="$n" '$1 ~ /^[0-9]+$/ { printf "- malloc calls per request: %.1f (%d requests)\n", $1 / n, n }' "$WORK/malloc.csv"
        } >>"$out"
    fi
    log "profile written to $out"
}

machine_notes() {
    {
        echo "- CPU: $(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo), $(nproc) cores"
        echo "- Kernel: $(uname -sr)"
        echo "- wrk: $(wrk -v 2>&1 | awk 'NR == 1 { print $2 }'), nginx: $(nginx -v 2>&1 | sed 's/.*nginx\///'), HAProxy: $(haproxy -v | awk 'NR == 1 { print $3 }'), errgate: $("$ERRGATE_BIN" --version | awk '{ print $2 }') ($(git -C "$REPO_DIR" rev-parse --short HEAD 2>/dev/null || echo '?'))"
        echo "- errgate build: $ERRGATE_BUILD"
        echo "- Load average before the run: $(cut -d' ' -f1-3 /proc/loadavg)"
        echo "- Other processes busy before the run (top, >= 10 % CPU): $(foreign_busy)"
        echo "- DURATION=${DURATION}s per cell, REPS=$REPS, warm-up ${WARMUP}s per scenario; wrk -t1 pinned, -t2 unpinned"
    } >"$NOTES"
}

main() {
    install_tools
    build_errgate
    ulimit -n "$(ulimit -Hn)"
    WORK=$(mktemp -d /tmp/errgate-bench.XXXXXX)
    chmod 755 "$WORK" # nginx workers run as nobody and read www/
    RUNS=$WORK/runs.jsonl
    NOTES=$WORK/notes.md
    IDLE=$WORK/idle.json
    : >"$RUNS"
    machine_notes
    make_bodies
    start_all
    sanity_check
    local cells=0 layout scen
    for layout in "${LAYOUTS[@]}"; do
        for scen in ${LAYOUT_SCENARIOS[$layout]}; do
            # shellcheck disable=SC2206
            local t=(${PATH_TARGETS[${SCEN_PATH[$scen]}]})
            cells=$((cells + ${#t[@]}))
        done
    done
    log "$cells cells x $REPS repetitions x ${DURATION}s: about $(((cells * (REPS * (DURATION + 1) + WARMUP + 1)) / 60 + 1)) min"
    FOREIGN=""
    MATRIX_TS=$(date +%s)
    run_matrix
    echo "- Other processes busy between runs (top, >= 10 % CPU, sampled before each repetition):" >>"$NOTES"
    sed '/^$/d; s/^/  - /' <<<"$FOREIGN" >>"$NOTES"
    idle_scenario
    echo "- Load average after the run: $(cut -d' ' -f1-3 /proc/loadavg)" >>"$NOTES"
    local stamp out
    stamp=$(date +%Y-%m-%d-%H%M)
    mkdir -p "$BENCH_DIR/results"
    out=$BENCH_DIR/results/$stamp
    if [[ $PROFILE == 1 ]]; then
        profile_errgate "$out-profile.md"
        echo "- Profile of errgate in this run: [$(basename "$out")-profile.md]($(basename "$out")-profile.md)" >>"$NOTES"
    fi
    # The raw runs go along, so the report can be recomputed (python3 bench/report.py --runs …).
    cp "$RUNS" "$out-runs.jsonl"
    echo "- Raw runs: [$(basename "$out")-runs.jsonl]($(basename "$out")-runs.jsonl)" >>"$NOTES"
    python3 "$BENCH_DIR/report.py" --runs "$RUNS" --notes "$NOTES" --idle "$IDLE" \
        --unstable-ratio "$UNSTABLE_RATIO" --quick "$QUICK" --out "$out.md"
    log "results written to $out.md ($(($(date +%s) - START_TS))s in all)"
}

main "$@"
