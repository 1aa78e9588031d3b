#!/bin/sh
# SPDX-License-Identifier: MIT
# The TLS tests' credentials, made with certtool as QEMU's documentation
# makes them, in QEMU's layout: one directory per end and per case.
#   OUT/dst        the destination: ca-cert.pem, server-cert.pem, server-key.pem
#                  (localhost, 127.0.0.1 and the two-host test's 10.79.0.2)
#   OUT/src        a source: ca-cert.pem, client-cert.pem, client-key.pem
#                  (source.test)
#   OUT/src-other  a source of the same CA named other.test
#   OUT/src-rogue  a source whose certificate another CA signed
#   OUT/dst-rogue  a destination whose certificate another CA signed
#   OUT/*.psk      keys.psk files: good (two identities), wrong (the same
#                  identity, another key), bare (a key alone)
# Usage: mkcreds.sh OUT
set -eu
out=${1%/}
tmp=$out.tmp
rm -rf "$tmp"
mkdir -p "$tmp"
cd "$tmp"

# Dates far from the test VM's clock, which starts from the host's.
dates='activation_date = "2020-01-01 00:00:00 UTC"
expiration_date = "2099-12-31 23:59:59 UTC"'

key() { certtool --generate-privkey --key-type ecdsa --outfile "$1" 2>/dev/null; }

# ca NAME: a self-signed CA in NAME-cert.pem, NAME-key.pem
ca() {
	key "$1-key.pem"
	printf 'cn = kvmtrack test %s\nca\ncert_signing_key\n%s\n' "$1" \
		"$dates" >"$1.info"
	certtool --generate-self-signed --load-privkey "$1-key.pem" \
		--template "$1.info" --outfile "$1-cert.pem" 2>/dev/null
}

# cert CA DIR SIDE CN [TEMPLATE LINES]: DIR/SIDE-cert.pem signed by CA
cert() {
	ca=$1 dir=$2 side=$3 cn=$4
	shift 4
	mkdir -p "$dir"
	cp ca-cert.pem "$dir/ca-cert.pem"
	key "$dir/$side-key.pem"
	{
		printf 'organization = kvmtrack tests\ncn = %s\n%s\n' "$cn" "$dates"
		for line in "$@"; do printf '%s\n' "$line"; done
		printf 'signing_key\nencryption_key\n'
	} >"$dir.info"
	certtool --generate-certificate --load-privkey "$dir/$side-key.pem" \
		--load-ca-certificate "$ca-cert.pem" --load-ca-privkey "$ca-key.pem" \
		--template "$dir.info" --outfile "$dir/$side-cert.pem" 2>/dev/null
}

ca ca
ca rogue
server="tls_www_server
dns_name = localhost
ip_address = 127.0.0.1
ip_address = 10.79.0.2"
cert ca dst server localhost "$server"
cert rogue dst-rogue server localhost "$server"
cert ca src client source.test "tls_www_client" "dns_name = source.test"
cert ca src-other client other.test "tls_www_client" "dns_name = other.test"
cert rogue src-rogue client source.test "tls_www_client" "dns_name = source.test"
rm -f ./*.info ./*-key.pem rogue-cert.pem

hex() { od -An -tx1 -N32 /dev/urandom | tr -d ' \n'; }
good=$(hex)
printf 'kvmtrack-src:%s\nbackup:%s\n' "$good" "$(hex)" >good.psk
printf 'kvmtrack-src:%s\n' "$(hex)" >wrong.psk
printf '%s\n' "$(hex)" >bare.psk
chmod 600 ./*.psk
cd - >/dev/null
rm -rf "$out"
mv "$tmp" "$out"
