# Shared by the tools/ scripts; sourced, never run. Errors are one line on stderr.

PM_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
PM_PG_BIN="${PMBENCH_PG_BIN:-/usr/lib/postgresql/15/bin}"
PM_PACKAGES=(cmake g++ make pkg-config ccache libbenchmark-dev libgtest-dev libpqxx-dev
  libboost-dev libboost-system-dev libssl-dev libsimdjson-dev nlohmann-json3-dev
  postgresql-15 postgresql-client-15 pgbouncer git python3-websockets nodejs
  prometheus prometheus-alertmanager prometheus-node-exporter prometheus-postgres-exporter
  nginx-light wrk openssl redis-server libhiredis-dev socat iproute2)

pm_die() {  # pm_die MESSAGE [EXIT_CODE]
  echo "${PM_TOOL:-pmbench}: $1" >&2
  exit "${2:-1}"
}

pm_say() { echo "${PM_TOOL:-pmbench}: $*" >&2; }

# Hide the password of any libpq URL or key=value string in text read from stdin.
pm_redact() { sed -E 's#(://[^:/@[:space:]]*):[^@[:space:]]*@#\1:***@#g; s#(password=)[^[:space:]]*#\1***#g'; }

# Installs the Debian packages pmbench needs that are missing. Not root: prints the one
# command to run and exits 2.
pm_ensure_packages() {
  local missing=() p
  for p in "${PM_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  if [ "$(id -u)" -ne 0 ]; then
    echo "${PM_TOOL:-pmbench}: missing Debian packages; as root run:" >&2
    echo "apt-get install -y --no-install-recommends ${missing[*]}"
    exit 2
  fi
  pm_say "installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null || pm_die "apt-get update failed"
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null \
    || pm_die "apt-get install ${missing[*]} failed"
}

# The builds git knows about: the commit, with "-dirty" when the tree has changes.
pm_git_commit() {
  local c
  c=$(git -C "$PM_ROOT" rev-parse --short=12 HEAD 2>/dev/null) || { echo unknown; return; }
  git -C "$PM_ROOT" diff --quiet HEAD 2>/dev/null || c="$c-dirty"
  echo "$c"
}
