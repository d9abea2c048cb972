#!/usr/bin/env bash
# Installs the native tools Assetline's dev stack and tests need, idempotently.
#
#   bash scripts/provision.sh
#
# Quiet when everything is present; prints one line per thing it installs (with
# how long it took). Writes nothing into the repository except under .cache/.
#
# Ensures:
#   - Node $NODE_VERSION in .cache/node/ from the npm registry (package node-<os>-<arch>), when the machine's
#     Node is older than 22; scripts/node-env.sh puts it first on PATH (`--node-only`: this step alone)
#   - the npm dependencies, installed by that Node
#   - Debian packages: postgresql, ffmpeg, clamav-daemon + clamav, poppler-utils, libheif-examples (heif-convert
#     decodes phones' HEVC HEIC, which sharp cannot), redis-server, nginx-light + libnginx-mod-http-geoip2 (plus a
#     JRE/maven if those are missing); for tests, libtiff-tools and python3-pil (with libheif's heif-enc: real encoders
#     of the layouts sniffing must recognise), and
#     chromium (headless, for the browser upload tests)
#   - the `postgres` OS user (postgres refuses to run as root; devstack uses it)
#   - Temporal CLI            ($TEMPORAL_CLI_PATH | PATH | GOPATH/bin | go install)
#   - versitygw               ($VERSITYGW_PATH    | PATH | GOPATH/bin | go install)
#   - Temporal's Java time-skipping test server
#                             ($TEMPORAL_TEST_SERVER_PATH | .cache/temporal-test-server/)
#   - Schemathesis            (.cache/schemathesis-venv/, from PyPI)
set -euo pipefail

NODE_VERSION=24.22.3 # Active LTS (Krypton); Node 20 reached its end of life in April 2026
NODE_MIN_MAJOR=22
TEMPORAL_CLI_VERSION=v1.5.1 # later tags do not build with `go install`
VERSITYGW_VERSION=v1.7.0

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CACHE_DIR="$REPO_ROOT/.cache"
LOG_DIR="$CACHE_DIR/provision"
mkdir -p "$LOG_DIR"

say() { echo "provision: $*"; }
die() {
  echo "provision: ERROR: $*" >&2
  exit 1
}
now_ms() { echo $(($(date +%s%N) / 1000000)); }
elapsed() { # start_ms -> "12.3s"
  local ms=$(($(now_ms) - $1))
  printf '%d.%ds' $((ms / 1000)) $(((ms % 1000) / 100))
}
# run_logged <logfile> <cmd...>: run quietly, show the log tail on failure.
run_logged() {
  local log="$1"
  shift
  if ! "$@" >"$log" 2>&1; then
    echo "provision: command failed: $*" >&2
    echo "provision: last lines of $log:" >&2
    tail -n 40 "$log" >&2 || true
    exit 1
  fi
}
is_root() { [ "$(id -u)" -eq 0 ]; }
have() { command -v "$1" >/dev/null 2>&1; }
# have_any <path-or-command>...: true if any is an executable path / command on PATH
have_any() {
  local c
  for c in "$@"; do
    if [[ "$c" == */* ]]; then
      [ -x "$c" ] && return 0
    else
      have "$c" && return 0
    fi
  done
  return 1
}

# Serialise concurrent runs (e.g. `npm test` in two shells): builds are not re-entrant.
if have flock; then
  exec 9>"$LOG_DIR/lock"
  flock 9
fi

# ---------------------------------------------------------------------------
# Node: the machine's when it is recent enough, otherwise the official binary from the npm registry (the `node`
# package installs it from node-<os>-<arch>; packing that directly needs no global install).
# ---------------------------------------------------------------------------
node_major() { "$1" -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0; }
ensure_node() {
  local dir="$CACHE_DIR/node"
  if [ -x "$dir/bin/node" ] && [ "$("$dir/bin/node" --version 2>/dev/null)" = "v$NODE_VERSION" ]; then
    return 0
  fi
  if have node && [ "$(node_major node)" -ge "$NODE_MIN_MAJOR" ] && [ "$(command -v node)" != "$dir/bin/node" ]; then
    rm -rf "$dir" # an older pin would shadow the machine's good Node
    return 0
  fi
  have npm || die "Node >= $NODE_MIN_MAJOR is needed and npm (to fetch it from the registry) is missing"
  local os arch
  case "$(uname -s)" in
    Linux) os=linux ;;
    Darwin) os=darwin ;;
    *) die "no Node package for $(uname -s) on the npm registry: install Node >= $NODE_MIN_MAJOR yourself" ;;
  esac
  case "$(uname -m)" in
    x86_64 | amd64) arch=x64 ;;
    aarch64 | arm64) arch=arm64 ;;
    *) die "no Node package for $(uname -m) on the npm registry: install Node >= $NODE_MIN_MAJOR yourself" ;;
  esac
  local t0 tmp
  t0=$(now_ms)
  tmp="$(mktemp -d "$CACHE_DIR/node.tmp.XXXXXX")"
  # npm pack checks the tarball against the registry's integrity hash.
  (cd "$tmp" && run_logged "$LOG_DIR/node.log" npm pack --no-audit --no-fund "node-$os-$arch@$NODE_VERSION")
  tar -xzf "$tmp/node-$os-$arch-$NODE_VERSION.tgz" -C "$tmp"
  [ "$("$tmp/package/bin/node" --version 2>/dev/null)" = "v$NODE_VERSION" ] ||
    die "the binary of node-$os-$arch@$NODE_VERSION does not run here"
  rm -rf "$dir"
  mv "$tmp/package" "$dir"
  rm -rf "$tmp"
  say "installed Node $NODE_VERSION (npm package node-$os-$arch) into .cache/node in $(elapsed "$t0")"
}
ensure_node
# shellcheck source=scripts/node-env.sh
source "$REPO_ROOT/scripts/node-env.sh"
[ "${1:-}" = "--node-only" ] && exit 0

# ---------------------------------------------------------------------------
# npm dependencies: `npm start` / `npm test` on a fresh clone need no `npm install` first. Installed by the Node
# above (npm runs on the first `node` on PATH); sharp and the Temporal core bridge are N-API prebuilds.
# ---------------------------------------------------------------------------
if [ ! -f "$REPO_ROOT/node_modules/.package-lock.json" ] ||
  [ "$REPO_ROOT/package-lock.json" -nt "$REPO_ROOT/node_modules/.package-lock.json" ]; then
  t=$(now_ms)
  (cd "$REPO_ROOT" && run_logged "$LOG_DIR/npm-ci.log" npm ci --no-audit --no-fund)
  say "installed npm dependencies with Node $(node --version) ($(elapsed "$t"))"
fi

# ---------------------------------------------------------------------------
# Debian packages
# ---------------------------------------------------------------------------
missing_pkgs=()
pg_server_present() { compgen -G '/usr/lib/postgresql/*/bin/postgres' >/dev/null; }
pg_server_present || missing_pkgs+=(postgresql)
{ have_any ffmpeg && have_any ffprobe; } || missing_pkgs+=(ffmpeg)
# clamav: devstack/clamd.ts runs its own clamd with its own signature file; never run freshclam here (no
# internet; the Debian clamav-daemon/freshclam services are not used and need no databases to install).
have_any clamd /usr/sbin/clamd || missing_pkgs+=(clamav-daemon)
have_any clamscan /usr/bin/clamscan || missing_pkgs+=(clamav)
have_any pdftoppm || missing_pkgs+=(poppler-utils)
# The upload steps `npm start` prints use curl and jq.
have_any curl || missing_pkgs+=(curl)
have_any jq || missing_pkgs+=(jq)
have_any redis-server /usr/bin/redis-server || missing_pkgs+=(redis-server)
have_any nginx /usr/sbin/nginx || missing_pkgs+=(nginx-light)
# Regional rights at the edge (devstack/nginx-geo.ts): the geoip2 module nginx loads when GEOIP_DATABASE is set.
[ -f /usr/lib/nginx/modules/ngx_http_geoip2_module.so ] || missing_pkgs+=(libnginx-mod-http-geoip2)
have_any runuser /usr/sbin/runuser /sbin/runuser || missing_pkgs+=(util-linux)
have_any java || missing_pkgs+=(openjdk-17-jre-headless)
have_any mvn || missing_pkgs+=(maven)
# The worker decodes HEVC HEIC with libheif's heif-convert (activities/media/tools/heif-hevc.ts); its heif-enc makes
# the tests' HEIC. Test-only real encoders for sniffing's layouts (test/helpers/encoder-layouts.ts): libtiff's tiffcp
# (IFD at the end, big-endian), Pillow (TIFF with its IFD first).
have_any heif-convert || missing_pkgs+=(libheif-examples)
have_any heif-enc || missing_pkgs+=(libheif-examples)
have_any tiffcp || missing_pkgs+=(libtiff-tools)
/usr/bin/python3 -c 'import PIL' 2>/dev/null || missing_pkgs+=(python3-pil)
# Browser uploads (test/browser-upload.test.ts): stock Uppy in headless Chromium, driven by playwright-core with
# this executable, so that nothing downloads a browser.
[ -x /usr/bin/chromium ] || missing_pkgs+=(chromium)

if [ "${#missing_pkgs[@]}" -gt 0 ]; then
  if ! is_root; then
    die "missing Debian packages: ${missing_pkgs[*]}
  re-run as root (sudo bash scripts/provision.sh) or install them with:
  sudo apt-get update && sudo apt-get install -y --no-install-recommends ${missing_pkgs[*]}"
  fi
  t0=$(now_ms)
  export DEBIAN_FRONTEND=noninteractive
  run_logged "$LOG_DIR/apt-update.log" apt-get update
  run_logged "$LOG_DIR/apt-install.log" \
    apt-get install -y --no-install-recommends -o Dpkg::Use-Pty=0 "${missing_pkgs[@]}"
  say "installed Debian packages ${missing_pkgs[*]} in $(elapsed "$t0")"
  pg_server_present || die "postgresql installed but no /usr/lib/postgresql/*/bin/postgres found"
fi

# ---------------------------------------------------------------------------
# postgres OS user (Debian's postgresql package creates it; postgres won't run as root)
# ---------------------------------------------------------------------------
if is_root && ! id -u postgres >/dev/null 2>&1; then
  t0=$(now_ms)
  useradd --system --user-group --home-dir /var/lib/postgresql --shell /bin/bash postgres
  say "created OS user postgres in $(elapsed "$t0")"
fi

# ---------------------------------------------------------------------------
# Go tools: Temporal CLI and versitygw
# ---------------------------------------------------------------------------
go_bin_dir() {
  local gobin
  gobin="$(go env GOBIN 2>/dev/null || true)"
  if [ -n "$gobin" ]; then
    echo "$gobin"
  else
    echo "$(go env GOPATH 2>/dev/null || echo "$HOME/go")/bin"
  fi
}

# ensure_go_tool <name> <env-var> <module/cmd/path> <version>
ensure_go_tool() {
  local name="$1" env_var="$2" pkg="$3" version="$4"
  local override="${!env_var:-}"
  if [ -n "$override" ]; then
    [ -x "$override" ] || die "\$$env_var=$override is not an executable file"
    return 0
  fi
  have "$name" && return 0
  if have go && [ -x "$(go_bin_dir)/$name" ]; then
    return 0
  fi
  [ -x "$HOME/go/bin/$name" ] && return 0
  have go || die "$name is missing and go is not installed (needed for go install $pkg@$version)"
  local t0
  t0=$(now_ms)
  run_logged "$LOG_DIR/go-install-$name.log" env GOFLAGS="${GOFLAGS:-} -buildvcs=false" \
    go install "$pkg@$version"
  [ -x "$(go_bin_dir)/$name" ] || die "go install $pkg@$version did not produce $(go_bin_dir)/$name"
  say "installed $name $version ($(go_bin_dir)/$name) in $(elapsed "$t0")"
}

ensure_go_tool temporal TEMPORAL_CLI_PATH github.com/temporalio/cli/cmd/temporal "$TEMPORAL_CLI_VERSION"
ensure_go_tool versitygw VERSITYGW_PATH github.com/versity/versitygw/cmd/versitygw "$VERSITYGW_VERSION"

# ---------------------------------------------------------------------------
# Temporal's Java time-skipping test server (io.temporal:temporal-test-server)
# ---------------------------------------------------------------------------
ensure_test_server() {
  if [ -n "${TEMPORAL_TEST_SERVER_PATH:-}" ]; then
    [ -x "$TEMPORAL_TEST_SERVER_PATH" ] ||
      die "\$TEMPORAL_TEST_SERVER_PATH=$TEMPORAL_TEST_SERVER_PATH is not an executable file"
    return 0
  fi
  local pom="$REPO_ROOT/scripts/temporal-test-server/pom.xml"
  local dir="$CACHE_DIR/temporal-test-server"
  local cp_file="$dir/classpath.txt" wrapper="$dir/temporal-test-server" stamp="$dir/pom.sha256"
  local pom_sum
  pom_sum="$(sha256sum "$pom" | cut -d' ' -f1)"

  # Up to date if the wrapper exists, the pom is unchanged and every jar is still in ~/.m2.
  if [ -x "$wrapper" ] && [ -s "$cp_file" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$pom_sum" ]; then
    local ok=1 jar
    while IFS= read -r jar; do
      [ -f "$jar" ] || {
        ok=0
        break
      }
    done < <(tr ':' '\n' <"$cp_file")
    [ "$ok" = 1 ] && return 0
  fi

  local t0
  t0=$(now_ms)
  mkdir -p "$dir"
  run_logged "$LOG_DIR/mvn-temporal-test-server.log" \
    mvn -q -B -f "$pom" dependency:build-classpath \
    -Dmdep.outputFile="$cp_file.tmp" -Dmdep.includeScope=runtime
  [ -s "$cp_file.tmp" ] || die "maven produced an empty classpath (see $LOG_DIR/mvn-temporal-test-server.log)"
  mv "$cp_file.tmp" "$cp_file"
  cat >"$wrapper.tmp" <<'EOF'
#!/usr/bin/env bash
# Generated by scripts/provision.sh: Temporal's Java time-skipping test server.
# Usage: temporal-test-server <port> [--enable-time-skipping] [...]
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
java_bin=java
if [ -n "${JAVA_HOME:-}" ] && [ -x "$JAVA_HOME/bin/java" ]; then java_bin="$JAVA_HOME/bin/java"; fi
exec "$java_bin" ${TEMPORAL_TEST_SERVER_JAVA_OPTS:-} -cp "$(cat "$here/classpath.txt")" io.temporal.testserver.TestServer "$@"
EOF
  chmod +x "$wrapper.tmp"
  mv "$wrapper.tmp" "$wrapper"
  echo "$pom_sum" >"$stamp"
  local version
  version="$(sed -n 's:.*<temporal-test-server.version>\(.*\)</temporal-test-server.version>.*:\1:p' "$pom")"
  say "installed temporal-test-server $version ($wrapper) in $(elapsed "$t0")"
}

ensure_test_server

# ---------------------------------------------------------------------------
# Schemathesis (PyPI), in a venv of its own: test/schemathesis.test.ts runs it against the API.
# ---------------------------------------------------------------------------
SCHEMATHESIS_VERSION=4.32.5

ensure_schemathesis() {
  local venv="$CACHE_DIR/schemathesis-venv"
  local stamp="$venv/installed-version"
  if [ -x "$venv/bin/st" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$SCHEMATHESIS_VERSION" ]; then
    return 0
  fi
  have python3 || die "python3 is missing (needed for the schemathesis venv)"
  local t0
  t0=$(now_ms)
  rm -rf "$venv"
  run_logged "$LOG_DIR/schemathesis-venv.log" python3 -m venv "$venv"
  run_logged "$LOG_DIR/schemathesis-pip.log" \
    "$venv/bin/pip" install --quiet --disable-pip-version-check "schemathesis==$SCHEMATHESIS_VERSION"
  echo "$SCHEMATHESIS_VERSION" >"$stamp"
  say "installed schemathesis $SCHEMATHESIS_VERSION ($venv/bin/st) in $(elapsed "$t0")"
}

ensure_schemathesis
