#!/usr/bin/env bash
# End-to-end: HTTPS on the public listener (server.tls_cert_file and
# tls_key_file, libmicrohttpd with GnuTLS). A throwaway CA signs a
# certificate for 127.0.0.1; curl checks it against that CA. The key file's
# mode is checked; a renewed certificate is taken at SIGHUP without a
# restart (the new listener binds before the old one stops), and a broken
# one leaves the old in place.
set -u

. "$(dirname "$0")/lib/common.bash"
e2e_init tls

cfg="$tmp/mlc.yaml"
log="$tmp/daemon.log"

# mkcert NAME CN: a CA-signed certificate NAME.pem / NAME.key for 127.0.0.1.
mkcert() {
    openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=$2 CA" \
        -keyout "$tmp/$1-ca.key" -out "$tmp/$1-ca.pem" >/dev/null 2>&1 &&
    openssl req -newkey rsa:2048 -nodes -subj "/CN=$2" -keyout "$tmp/$1.key" \
        -out "$tmp/$1.csr" >/dev/null 2>&1 &&
    printf 'subjectAltName=IP:127.0.0.1\n' > "$tmp/$1.ext" &&
    openssl x509 -req -in "$tmp/$1.csr" -CA "$tmp/$1-ca.pem" -CAkey "$tmp/$1-ca.key" \
        -CAcreateserial -days 2 -extfile "$tmp/$1.ext" -out "$tmp/$1.pem" >/dev/null 2>&1 &&
    chmod 600 "$tmp/$1.key"
}
write_config() {
    yaml_set "$tmp/base.yaml" "$cfg" url="\"$tmp/mlc.db\"" listen="\"127.0.0.1:$port\"" \
        count=1 drain_timeout_s=5 '#tls_cert_file'='"live.pem"' '#tls_key_file'='"live.key"'
}
https_code() { # CA PATH
    curl -s -o /dev/null -w '%{http_code}' --max-time 5 --cacert "$1" "https://127.0.0.1:$port$2"
}
served_by() { [ "$(https_code "$tmp/$1-ca.pem" /healthz)" = 200 ]; }
not_served_by() { ! served_by "$1"; }

require "mlc init writes a base config" mlc_init_base
require "a throwaway CA signs a certificate for 127.0.0.1" mkcert one "mlc one"
require "... and a second one (the renewal)" mkcert two "mlc two"
cp "$tmp/one.pem" "$tmp/live.pem"; cp "$tmp/one.key" "$tmp/live.key"

port=$(free_port) || bail
write_config
chmod 644 "$tmp/live.key"
"$MLC" run --config "$cfg" >"$log" 2>&1 &
bad=$!
wait_until 100 sh -c '! kill -0 $0 2>/dev/null' "$bad"
check "a key file others may read stops the start" sh -c '! kill -0 $0 2>/dev/null' "$bad"
check "... naming the file and chmod 0600" grep -q "live.key has mode 0644.*chmod 0600" "$log"
chmod 600 "$tmp/live.key"

healthy() { served_by one; } # daemon_start's readiness, over HTTPS
require "the daemon starts with HTTPS on server.listen" daemon_start write_config
check "/healthz answers over HTTPS, verified against the CA" served_by one
plain_refused() { [ "$(http_code "http://127.0.0.1:$port/healthz")" = 000 ]; }
check "plain HTTP gets no answer" plain_refused
check "an unknown path is answered over HTTPS (404), not cut" \
    test "$(https_code "$tmp/one-ca.pem" /nope)" = 404

cp "$tmp/two.pem" "$tmp/live.pem"; cp "$tmp/two.key" "$tmp/live.key"
kill -HUP "$pid"
check "SIGHUP takes the renewed certificate" wait_until 100 served_by two
check "... logged" grep -q 'msg="TLS certificate reloaded"' "$log"
check "... without a restart (same process)" kill -0 "$pid"
check "the old certificate is no longer served" not_served_by one
printf 'not a key\n' > "$tmp/live.key"
kill -HUP "$pid"
check "a broken key at SIGHUP is refused" wait_until 100 grep -q 'msg="TLS certificate not reloaded' "$log"
check "... and the listener keeps serving the last good one" served_by two
check "SIGTERM stops the daemon" daemon_term 200
e2e_done
