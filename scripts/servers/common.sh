# common.sh - helpers for the server scripts (sourced). Logs go to stderr; only `export`
# lines go to stdout, so `eval "$(scripts/servers/start-moto.sh)"` works.
# Every server binds 127.0.0.1 only; state lives in /tmp/s3rs-<name>-<port>/.

log() { echo "[$(date +%H:%M:%S) ${0##*/}] $*" >&2; }
die() { log "error: $*"; exit 1; }

# port_free PORT -> success when nothing listens on 127.0.0.1:PORT
port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# wait_http URL TIMEOUT_S [PID] -> waits until URL answers any HTTP status; fails if PID dies
wait_http() {
  local url=$1 timeout=$2 pid=${3:-} t0=$SECONDS code
  while (( SECONDS - t0 < timeout )); do
    code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "$url" || true)
    if [[ -n $code && $code != 000 ]]; then return 0; fi
    if [[ -n $pid ]] && ! kill -0 "$pid" 2>/dev/null; then log "process $pid died"; return 1; fi
    sleep 0.2
  done
  log "timeout after ${timeout}s waiting for $url"
  return 1
}

# stop_pidfile FILE -> TERM the pid in FILE, wait up to 5 s, then KILL; removes FILE
stop_pidfile() {
  local f=$1 pid
  [[ -f $f ]] || return 0
  pid=$(cat "$f")
  if [[ -n $pid ]] && kill -0 "$pid" 2>/dev/null; then
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -0 "$pid" 2>/dev/null && kill -9 "$pid" 2>/dev/null || true
    log "stopped pid $pid"
  fi
  rm -f "$f"
}

# need_cmd CMD -> fails when CMD is missing after an install attempt
need_cmd() { command -v "$1" >/dev/null 2>&1 || die "$1 is not installed"; }

# apt_install PKG... -> installs Debian packages, refreshing the index once if needed. The
# server scripts run side by side, so installs take turns on one lock file (apt's own locks
# fail at once rather than wait), and apt waits for a dpkg lock held by anything else.
apt_install() {
  export DEBIAN_FRONTEND=noninteractive
  local apt=(apt-get -y -q -o DPkg::Lock::Timeout=600)
  (
    flock -w 1200 9 || { log "timed out waiting for /tmp/s3rs-apt.lock"; exit 1; }
    "${apt[@]}" install --no-install-recommends "$@" >&2 \
      || { "${apt[@]}" update >&2 && "${apt[@]}" install --no-install-recommends "$@" >&2; }
  ) 9>/tmp/s3rs-apt.lock
}

# pip_install PKG... -> installs Python packages for the current python3
pip_install() { python3 -m pip install -q "$@" >&2; }

# emit NAME VALUE... -> prints `export NAME=VALUE` lines, shell-quoted
emit() { while (($#)); do printf 'export %s=%q\n' "$1" "$2"; shift 2; done; }

# make_test_tls DIR -> DIR/ca.crt DIR/ca.key DIR/server.crt DIR/server.key: a throw-away CA and a
# server certificate it signed (openssl, RSA 2048) for IP:127.0.0.1, IP:::1, DNS:localhost and
# DNS:*.localhost. Keeps existing files.
make_test_tls() {
  local d=$1
  [[ -s $d/ca.crt && -s $d/server.crt && -s $d/server.key ]] && return 0
  mkdir -p "$d"
  openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -subj "/CN=s3-rs test CA" \
    -keyout "$d/ca.key" -out "$d/ca.crt" \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
  openssl req -newkey rsa:2048 -nodes -subj "/CN=localhost" -keyout "$d/server.key" -out "$d/server.csr" 2>/dev/null
  printf 'subjectAltName=IP:127.0.0.1,IP:::1,DNS:localhost,DNS:*.localhost\nbasicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n' >"$d/server.ext"
  openssl x509 -req -in "$d/server.csr" -CA "$d/ca.crt" -CAkey "$d/ca.key" -CAcreateserial -days 3650 \
    -extfile "$d/server.ext" -out "$d/server.crt" 2>/dev/null
  rm -f "$d/server.csr" "$d/ca.srl"
}
