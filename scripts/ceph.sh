#!/usr/bin/env bash
# Start a throw-away single-node Ceph cluster with a RADOS Gateway (S3) for the test suite and
# the benchmarks: Debian's ceph-mon, ceph-mgr, ceph-osd and radosgw (installed if missing),
# one monitor, one manager, one OSD (memstore: the data lives in the OSD's memory, sized by
# MAGAZIN_CEPH_BYTES, default 8 GiB, used only as written), pool size 1, everything on
# 127.0.0.1 in a temporary folder, no systemd.
#
#   . scripts/ceph.sh     exports MAGAZIN_S3_ENDPOINT, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY
#                         and ceph_stop (stops the daemons, removes the folder); ceph_rgw_stop
#                         and ceph_rgw_start stop and start only the gateway (fault tests).
#
# Facts this relies on (Ceph 16.2): with `auth … required = none` the gateway hangs for
# 300 s at start unless its client section sets `ms mon client mode = crc`; `paxos propose
# interval = 0.05` cuts the start from ~14 s to ~2 s; a full OSD makes writes hang, so the
# store is sized well above what the tests write.
set -euo pipefail
if ! command -v radosgw >/dev/null 2>&1 || ! command -v ceph-osd >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ]; then
    echo "Installing Ceph (Debian packages ceph-mon ceph-mgr ceph-osd radosgw)…" >&2
    apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
      ceph-mon ceph-mgr ceph-osd radosgw ceph-common >/dev/null
  else
    echo "Ceph is not installed; run as root or: sudo apt-get install --no-install-recommends" \
      "ceph-mon ceph-mgr ceph-osd radosgw ceph-common" >&2
    return 1 2>/dev/null || exit 1
  fi
fi
CEPH_DIR=$(mktemp -d /tmp/magazin-ceph.XXXXXX)
CEPH_MON_PORT=${MAGAZIN_CEPH_MON_PORT:-46789}
CEPH_RGW_PORT=${MAGAZIN_CEPH_RGW_PORT:-47480}
CEPH_CONF="$CEPH_DIR/ceph.conf"
mkdir -p "$CEPH_DIR"/{run,log,mon,mgr,osd,rgw}
cat >"$CEPH_CONF" <<EOF
[global]
fsid = $(cat /proc/sys/kernel/random/uuid)
mon host = v2:127.0.0.1:$CEPH_MON_PORT
public addr = 127.0.0.1
auth cluster required = none
auth service required = none
auth client required = none
auth allow insecure global id reclaim = true
ms bind ipv6 = false
osd pool default size = 1
osd pool default min size = 1
osd pool default pg autoscale mode = off
osd pool default pg num = 8
osd pool default pgp num = 8
mon allow pool size one = true
mon allow pool delete = true
mon warn on pool no redundancy = false
osd crush chooseleaf type = 0
paxos propose interval = 0.05
run dir = $CEPH_DIR/run
admin socket = $CEPH_DIR/run/\$name.asok
log file = $CEPH_DIR/log/\$name.log
pid file = $CEPH_DIR/run/\$name.pid
mon data = $CEPH_DIR/mon/\$name
mgr data = $CEPH_DIR/mgr/\$name
osd data = $CEPH_DIR/osd/\$name
osd objectstore = memstore
memstore device bytes = ${MAGAZIN_CEPH_BYTES:-8589934592}
osd max object name len = 460
osd max object namespace len = 64
[mgr]
mgr initial modules =
[client]
ms mon client mode = crc
rgw frontends = beast endpoint=127.0.0.1:$CEPH_RGW_PORT
rgw data = $CEPH_DIR/rgw/\$name
rgw dns name = 127.0.0.1
rgw enable usage log = false
rgw thread pool size = 64
EOF
export CEPH_CONF CEPH_DIR
monmaptool --create --add a "v2:127.0.0.1:$CEPH_MON_PORT" \
  --fsid "$(awk '/^fsid/ {print $3}' "$CEPH_CONF")" "$CEPH_DIR/monmap" >/dev/null
ceph-mon --mkfs -i a --monmap "$CEPH_DIR/monmap" -c "$CEPH_CONF" 2>>"$CEPH_DIR/log/setup.log"
ceph-mon -i a -c "$CEPH_CONF" 2>>"$CEPH_DIR/log/setup.log"
mkdir -p "$CEPH_DIR/mgr/mgr.x"
ceph-mgr -i x -c "$CEPH_CONF" 2>>"$CEPH_DIR/log/setup.log"
CEPH_OSD_UUID=$(cat /proc/sys/kernel/random/uuid)
CEPH_OSD_ID=$(timeout 60 ceph -c "$CEPH_CONF" osd new "$CEPH_OSD_UUID")
mkdir -p "$CEPH_DIR/osd/osd.$CEPH_OSD_ID"
ceph-osd -c "$CEPH_CONF" -i "$CEPH_OSD_ID" --mkfs --osd-uuid "$CEPH_OSD_UUID" \
  2>>"$CEPH_DIR/log/setup.log" >/dev/null
ceph-osd -c "$CEPH_CONF" -i "$CEPH_OSD_ID" 2>>"$CEPH_DIR/log/setup.log"
AWS_ACCESS_KEY_ID=magazin-test
AWS_SECRET_ACCESS_KEY=magazin-test-secret
MAGAZIN_S3_ENDPOINT="http://127.0.0.1:$CEPH_RGW_PORT"
export AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY MAGAZIN_S3_ENDPOINT CEPH_OSD_ID

ceph_rgw_start() {
  mkdir -p "$CEPH_DIR/rgw/client.rgw"
  radosgw -c "$CEPH_CONF" -n client.rgw 2>>"$CEPH_DIR/log/setup.log"
  local i
  for i in $(seq 1 600); do
    if curl -s -o /dev/null "$MAGAZIN_S3_ENDPOINT"; then return 0; fi
    sleep 0.1
  done
  echo "the RADOS Gateway did not answer on $MAGAZIN_S3_ENDPOINT (see $CEPH_DIR/log)" >&2
  return 1
}
ceph_rgw_stop() {
  local pid
  pid=$(cat "$CEPH_DIR/run/client.rgw.pid" 2>/dev/null || true)
  [ -n "$pid" ] && kill "$pid" 2>/dev/null || true
  for _ in $(seq 1 100); do
    kill -0 "$pid" 2>/dev/null || return 0
    sleep 0.1
  done
  kill -9 "$pid" 2>/dev/null || true
}
ceph_stop() {
  local f
  for f in "$CEPH_DIR"/run/*.pid; do
    [ -f "$f" ] && kill "$(cat "$f")" 2>/dev/null || true
  done
  sleep 0.5
  for f in "$CEPH_DIR"/run/*.pid; do
    [ -f "$f" ] && kill -9 "$(cat "$f")" 2>/dev/null || true
  done
  rm -rf "$CEPH_DIR"
}
# the OSD must be up before the gateway creates its pools
for _ in $(seq 1 600); do
  if timeout 10 ceph -c "$CEPH_CONF" osd stat 2>/dev/null | grep -q "1 up"; then break; fi
  sleep 0.1
done
ceph_rgw_start
radosgw-admin -c "$CEPH_CONF" user create --uid=magazin-test --display-name="Magazin tests" \
  --access-key="$AWS_ACCESS_KEY_ID" --secret-key="$AWS_SECRET_ACCESS_KEY" >/dev/null
echo "Ceph $(ceph-osd --version | awk '{print $3}') RADOS Gateway on $MAGAZIN_S3_ENDPOINT" >&2
