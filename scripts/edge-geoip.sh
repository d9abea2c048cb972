#!/bin/sh
# The edge image's entry point (Dockerfile, stage `edge`): where a viewer is, by address, for regional rights, as
# devstack/nginx-geo.ts sets it up for `npm start`. The first GeoIP2/GeoLite2 Country or City database (*.mmdb) in
# the mounted directory is looked up; without one, $geoip2_country is empty and only a trusted proxy's header
# locates a viewer (an allow list then refuses everyone else, a block list lets them through). Then runs the command.
set -eu
dir=${ASSETLINE_GEOIP_DIR:-/etc/assetline/geoip}
conf=${ASSETLINE_GEOIP_CONF:-/etc/nginx/assetline-geoip.conf}
db=
for f in "$dir"/*.mmdb; do
  if [ -f "$f" ]; then
    db=$f
    break
  fi
done
if [ -n "$db" ]; then
  # Written into the config unquoted: nothing that could end a directive.
  case "$db" in
  *[!A-Za-z0-9_.~+/=-]*)
    echo "edge: $db: the path has characters nginx cannot take" >&2
    exit 64
    ;;
  esac
  printf 'geoip2 %s {\n  $geoip2_country country iso_code;\n}\n' "$db" >"$conf"
  echo "edge: viewers located with $db" >&2
else
  printf 'map "" $geoip2_country {\n  default "";\n}\n' >"$conf"
  echo "edge: no GeoIP database in $dir: only a trusted proxy's header locates a viewer" >&2
fi
exec "$@"
