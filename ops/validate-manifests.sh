#!/usr/bin/env bash
# Validates the Kubernetes manifests that run Triton itself (ops/kubernetes/).
#
#   ops/validate-manifests.sh [MANIFEST_DIR]      (default: kubernetes/ next to this script)
#
# For every *.yaml / *.yml file in MANIFEST_DIR:
#   1. schema: kubernetes-validate (from PyPI, in a throwaway venv) in strict mode,
#      so unknown or misspelt fields fail, against Kubernetes $TRITON_K8S_VERSION
#      (default 1.30; the newest schema the package has if it lacks that one).
#      kustomization.yaml is not a Kubernetes object: it is checked by building it
#      with `kubectl kustomize` instead.
#   2. kubectl: `kubectl apply --dry-run=client --validate=false -f FILE -o name`.
#      Even client-side dry-run needs an API server (kubectl asks it for API
#      discovery and for the live object), so when none is reachable this step
#      falls back to `kubectl label --local -o name`, which parses the file with
#      kubectl's decoder offline, and says so.
# Then Triton-specific checks (probe paths, ports, labels, RBAC, kustomization).
# Prints one line per file and per check; exits non-zero on any failure.
#
# Environment:
#   TRITON_VENV           reuse (or create) the venv here instead of a temporary one
#   TRITON_K8S_VERSION    Kubernetes version to validate against (default 1.30)
#   KUBERNETES_VALIDATE   pip requirement (default kubernetes-validate==1.37.0)
#   KUBECTL               kubectl binary (default: kubectl on PATH)
set -euo pipefail

dir="${1:-$(dirname "$0")/kubernetes}"
k8s_version="${TRITON_K8S_VERSION:-1.30}"
requirement="${KUBERNETES_VALIDATE:-kubernetes-validate==1.37.0}"
kubectl="${KUBECTL:-kubectl}"

if [[ ! -d "$dir" ]]; then
    echo "validate-manifests: no such directory: $dir" >&2
    exit 2
fi
mapfile -t files < <(find "$dir" -maxdepth 1 -type f \( -name '*.yaml' -o -name '*.yml' \) | LC_ALL=C sort)
if [[ ${#files[@]} -eq 0 ]]; then
    echo "validate-manifests: no *.yaml files in $dir" >&2
    exit 2
fi
command -v "$kubectl" >/dev/null || { echo "validate-manifests: kubectl not found" >&2; exit 2; }
command -v python3 >/dev/null || { echo "validate-manifests: python3 not found" >&2; exit 2; }

start=$SECONDS

# --- venv with kubernetes-validate -------------------------------------------
if [[ -n "${TRITON_VENV:-}" ]]; then
    venv="$TRITON_VENV"
else
    tmp="$(mktemp -d)"
    trap 'rm -rf "$tmp"' EXIT
    venv="$tmp/venv"
fi
if [[ ! -x "$venv/bin/kubernetes-validate" ]]; then
    python3 -m venv "$venv"
    if ! "$venv/bin/pip" install --quiet --disable-pip-version-check "$requirement"; then
        echo "validate-manifests: pip install $requirement failed" >&2
        exit 2
    fi
fi
py="$venv/bin/python"
installed=$SECONDS

# Newest schema version not newer than the one asked for; the newest one if none is older.
schema_version="$("$py" - "$k8s_version" <<'PY'
import sys
from packaging.version import Version
from kubernetes_validate.utils import all_versions
want = Version(sys.argv[1])
have = sorted({Version(v) for v in all_versions()})
older = [v for v in have if (v.major, v.minor) <= (want.major, want.minor)]
print(older[-1] if older else have[-1])
PY
)"
kv_version="$("$venv/bin/kubernetes-validate" --version)"
echo "kubernetes-validate $kv_version, strict, against Kubernetes $schema_version (asked: $k8s_version); $("$kubectl" version --client 2>/dev/null | head -n1)"

# --- is there an API server for kubectl's client-side dry-run? ---------------
online=0
if "$kubectl" config current-context >/dev/null 2>&1 &&
    "$kubectl" version --request-timeout=5s >/dev/null 2>&1; then
    online=1
    echo "kubectl: API server reachable ($("$kubectl" config current-context)): apply --dry-run=client"
else
    echo "kubectl: no reachable API server, and apply --dry-run=client needs one even without"
    echo "         --validate (API discovery, live-object lookup); checking with kubectl label --local instead"
fi

failures=0
fail() { failures=$((failures + 1)); }
indent() { sed 's/^/        /'; }

# --- per file -----------------------------------------------------------------
for file in "${files[@]}"; do
    name="$(basename "$file")"
    status=PASS
    detail=""
    out=""

    if [[ "$name" == kustomization.yaml || "$name" == kustomization.yml ]]; then
        # Not a Kubernetes API object: build it (offline) instead of schema-validating it.
        if out="$("$kubectl" kustomize "$(dirname "$file")" 2>&1)"; then
            detail="kustomize: builds $(grep -c '^kind:' <<<"$out") objects"
        else
            status=FAIL; detail="kustomize: build failed"
        fi
        if [[ $status == PASS ]]; then
            if [[ $online == 1 ]]; then
                if out="$("$kubectl" apply --dry-run=client --validate=false -k "$(dirname "$file")" -o name 2>&1)"; then
                    detail+="; kubectl apply -k --dry-run=client: $(paste -sd, <<<"$out")"
                else
                    status=FAIL; detail+="; kubectl apply -k --dry-run=client failed"
                fi
            fi
        fi
    else
        # 1. Schema, strict. kubernetes-validate only warns (exit 0) for a kind it has
        #    no schema for; none of these files should contain such a kind, so a
        #    warning is a failure too.
        rc=0
        out="$("$venv/bin/kubernetes-validate" --strict -k "$schema_version" "$file" 2>&1)" || rc=$?
        if [[ $rc -ne 0 ]] || grep -qE '^(ERROR|WARN|FATAL)' <<<"$out" || ! grep -q '^INFO' <<<"$out"; then
            status=FAIL; detail="schema: failed"
        else
            detail="schema: $(sed -n 's/^INFO .* passed for resource \([^ ]*\) against.*/\1/p' <<<"$out" | paste -sd, -)"
        fi

        # 2. kubectl.
        if [[ $status == PASS ]]; then
            if [[ $online == 1 ]]; then
                what="kubectl apply --dry-run=client"
                cmd=("$kubectl" apply --dry-run=client --validate=false -f "$file" -o name)
            else
                what="kubectl label --local"
                cmd=("$kubectl" label --local -f "$file" triton.io/validated=true -o name)
            fi
            if out="$("${cmd[@]}" 2>&1)"; then
                detail+="; $what: $(paste -sd, <<<"$out")"
            else
                status=FAIL; detail+="; $what: failed"
            fi
        fi
    fi

    printf '%-4s  %-24s  %s\n' "$status" "$name" "$detail"
    if [[ $status == FAIL ]]; then
        fail
        indent <<<"$out"
    fi
done

# --- Triton-specific checks ---------------------------------------------------
rc=0
"$py" - "$dir" <<'PY' || rc=$?
import glob, os, sys
import yaml

d = sys.argv[1]
objects, files = [], []
for path in sorted(glob.glob(os.path.join(d, "*.yaml")) + glob.glob(os.path.join(d, "*.yml"))):
    files.append(os.path.basename(path))
    try:
        with open(path) as f:
            docs = [x for x in yaml.safe_load_all(f) if x]
    except yaml.YAMLError as e:
        continue  # already reported above
    for x in docs:
        if isinstance(x, dict) and "kind" in x:
            objects.append((os.path.basename(path), x))

failed = 0
checks = []
def check(name, ok):
    """Registers fn(problems) as the check `name`; `ok` is printed when it finds no problem."""
    def register(fn):
        checks.append((name, ok, fn))
        return fn
    return register

def find(kind):
    return [o for f, o in objects if o.get("kind") == kind]

def pod_template():
    deps = find("Deployment")
    return deps[0].get("spec", {}).get("template", {}) if len(deps) == 1 else {}

def pod_labels():
    return (pod_template().get("metadata") or {}).get("labels") or {}

WANT_LABELS = {"app.kubernetes.io/name": "triton", "app.kubernetes.io/component": "engine"}

@check("deployment probes/ports", "liveness /healthz, readiness /readyz on http; ports http 8088, grpc 8099")
def _(problems):
    deps = find("Deployment")
    if len(deps) != 1:
        problems.append("expected one Deployment, found %d" % len(deps))
        return
    cs = [c for c in pod_template().get("spec", {}).get("containers", []) if c.get("name") == "triton"]
    if len(cs) != 1:
        problems.append("no container named triton")
        return
    c = cs[0]
    ports = {p.get("name"): p.get("containerPort") for p in c.get("ports") or []}
    if sorted(ports.values(), key=str) != [8088, 8099]:
        problems.append("container ports are %s, want 8088 and 8099" % list(ports.values()))
    if ports.get("http") != 8088 or ports.get("grpc") != 8099:
        problems.append("want ports named http=8088, grpc=8099, got %s" % ports)
    for probe, path in (("livenessProbe", "/healthz"), ("readinessProbe", "/readyz"), ("startupProbe", "/healthz")):
        p = c.get(probe)
        if p is None:
            if probe != "startupProbe":  # optional
                problems.append("%s missing" % probe)
            continue
        g = p.get("httpGet") or {}
        if g.get("path") != path:
            problems.append("%s path is %r, want %r" % (probe, g.get("path"), path))
        if g.get("port") not in ("http", 8088):
            problems.append("%s port is %r, want http (8088)" % (probe, g.get("port")))

@check("service", "http 8088, grpc 8099 (h2c); selector matches the pods")
def _(problems):
    svcs = find("Service")
    if len(svcs) != 1:
        problems.append("expected one Service, found %d" % len(svcs))
        return
    spec = svcs[0].get("spec", {})
    ports = {p.get("name"): p for p in spec.get("ports") or []}
    if ports.get("http", {}).get("port") != 8088:
        problems.append("port http is not 8088")
    if ports.get("grpc", {}).get("port") != 8099:
        problems.append("port grpc is not 8099")
    if ports.get("grpc", {}).get("appProtocol") != "kubernetes.io/h2c":
        problems.append("grpc appProtocol is not kubernetes.io/h2c")
    sel = spec.get("selector") or {}
    labels = pod_labels()
    if not sel or any(labels.get(k) != v for k, v in sel.items()):
        problems.append("selector %s does not match the pod labels %s" % (sel, labels))

@check("labels", "every object carries app.kubernetes.io/name=triton, component=engine")
def _(problems):
    for f, o in objects:
        if o.get("kind") == "Kustomization":
            continue
        meta = o.get("metadata") or {}
        labels = meta.get("labels") or {}
        missing = [k for k, v in WANT_LABELS.items() if labels.get(k) != v]
        if missing:
            problems.append("%s %s/%s lacks %s" % (f, o["kind"], meta.get("name"), ",".join(missing)))
    if any(pod_labels().get(k) != v for k, v in WANT_LABELS.items()):
        problems.append("the Deployment's pod template lacks them")

@check("rbac", "no wildcards, no secrets")
def _(problems):
    roles = find("ClusterRole") + find("Role")
    if not find("ClusterRole"):
        problems.append("no ClusterRole")
    for role in roles:
        for rule in role.get("rules") or []:
            for field in ("apiGroups", "resources", "verbs", "resourceNames", "nonResourceURLs"):
                if any("*" in str(x) for x in rule.get(field) or []):
                    problems.append("%s %s: wildcard in %s" % (role["kind"], role["metadata"]["name"], field))
            if any(str(r).split("/")[0] == "secrets" for r in rule.get("resources") or []):
                problems.append("%s %s: grants secrets" % (role["kind"], role["metadata"]["name"]))

# What the engine calls (KubeClusterPort, KubeObjectCache): the ClusterRole must grant at least this.
ENGINE_CALLS = {
    ("apps.kruise.io", "clonesets"): {"get", "list", "watch", "create", "update", "patch", "delete"},
    ("", "pods"): {"get", "list", "watch"},
    ("", "pods/status"): {"patch"},
}

@check("rbac covers the engine", "every verb the engine calls on CloneSets, pods and pods/status")
def _(problems):
    granted = {}
    for role in find("ClusterRole"):
        for rule in role.get("rules") or []:
            for group in rule.get("apiGroups") or []:
                for resource in rule.get("resources") or []:
                    granted.setdefault((group, resource), set()).update(rule.get("verbs") or [])
    for (group, resource), verbs in sorted(ENGINE_CALLS.items()):
        missing = verbs - granted.get((group, resource), set())
        if missing:
            problems.append("%s%s: missing %s" % (group + "/" if group else "", resource, ",".join(sorted(missing))))

@check("kustomization", "lists every manifest but secrets.example.yaml")
def _(problems):
    ks = find("Kustomization")
    if len(ks) != 1:
        problems.append("expected one kustomization.yaml")
        return
    listed = set(ks[0].get("resources") or [])
    want = {f for f in files if f not in ("kustomization.yaml", "kustomization.yml") and not f.startswith("secrets.")}
    if listed != want:
        problems.append("resources %s, want %s" % (sorted(listed), sorted(want)))

for name, ok, fn in checks:
    problems = []
    try:
        fn(problems)
    except Exception as e:  # a malformed manifest: report it, do not crash
        problems.append("could not check: %s: %s" % (type(e).__name__, e))
    if problems:
        failed += 1
        print("FAIL  %-24s  %s" % (name, "; ".join(problems)))
    else:
        print("PASS  %-24s  %s" % (name, ok))

sys.exit(failed)
PY
failures=$((failures + rc))

end=$SECONDS
echo "venv + pip install: $((installed - start))s$([[ -n "${TRITON_VENV:-}" ]] && echo " (TRITON_VENV=$TRITON_VENV)"), validation: $((end - installed))s"
if [[ $failures -ne 0 ]]; then
    echo "RESULT: FAIL ($failures failing file(s)/check(s)) in $dir"
    exit 1
fi
echo "RESULT: PASS (${#files[@]} files) in $dir"
