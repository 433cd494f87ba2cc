#!/bin/sh
# Run COMMAND in a private network and mount namespace where /etc/resolv.conf points at a dnsmasq
# on 127.0.0.1:53 that serves the records of DNSMASQ_CONF (`txt-record=...` lines).
#
# opendkim-testmsg (and dkimverify) ask only the system resolver, which talks to port 53 of the
# servers in /etc/resolv.conf; a namespace gives us both without touching the machine's resolver.
# Start it under `unshare -r -n -m`, `unshare -n -m` (root) or `sudo -n unshare -n -m`.
#
# usage: netns-dns.sh DNSMASQ_CONF COMMAND [ARG...]
# stdin goes to COMMAND; the exit status is COMMAND's, or 90 when the namespace cannot be set up.
set -u
PATH="$PATH:/usr/sbin:/sbin"
conf=$1
shift

fail() {
  echo "netns-dns: $*" >&2
  exit 90
}

dir=$(mktemp -d) || fail "mktemp failed"
ip link set lo up || fail "cannot bring up the loopback interface (is iproute2 installed?)"
echo "nameserver 127.0.0.1" >"$dir/resolv.conf"
mount --bind "$dir/resolv.conf" /etc/resolv.conf || fail "cannot bind-mount /etc/resolv.conf"

# -d keeps dnsmasq in the foreground and stops it from switching to a user the namespace cannot map.
dnsmasq -d -q --conf-file="$conf" --no-hosts --no-resolv --listen-address=127.0.0.1 --bind-interfaces --port=53 \
  </dev/null >"$dir/dnsmasq.log" 2>&1 &
pid=$!
trap 'kill "$pid" 2>/dev/null; rm -rf "$dir"' EXIT
i=0
# Port 53 is 0035 in /proc/net/udp, which shows this namespace's sockets only.
until grep -q ':0035 ' /proc/net/udp; do
  kill -0 "$pid" 2>/dev/null || fail "dnsmasq did not start: $(cat "$dir/dnsmasq.log")"
  i=$((i + 1))
  [ "$i" -lt 100 ] || fail "dnsmasq did not listen on 127.0.0.1:53"
  sleep 0.05
done

"$@"
