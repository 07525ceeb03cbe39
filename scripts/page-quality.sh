#!/usr/bin/env bash
# Page quality of the main pages, in headless Chromium (tests/e2e/quality.rs):
#   - no console errors or warnings (CSP violations, failed loads, script errors);
#   - nothing sticks out or scrolls sideways at 1280 px and at 375 px;
#   - axe-core: no serious or critical WCAG 2.0/2.1/2.2 A/AA violation (at both widths);
#   - Nu Html Checker (vnu.jar --errors-only): valid HTML5 as the server sends it, valid CSS.
# The saved pages, vnu.json and screenshots go to $FORGEKEYS_E2E_OUT (default /tmp/forgekeys-e2e).
#
# Needs: chromium + chromium-driver (Debian), java 11+ (vnu.jar), node/npm (axe-core, vnu-jar
# from package-lock.json). Usage: scripts/page-quality.sh [cargo test filter, default: quality]
set -euo pipefail
cd "$(dirname "$0")/.."

out="${FORGEKEYS_E2E_OUT:-/tmp/forgekeys-e2e}"
jar=node_modules/vnu-jar/build/dist/vnu.jar

for tool in chromium chromedriver java npm; do
  command -v "$tool" >/dev/null 2>&1 || { echo "page-quality: $tool is missing" >&2; exit 2; }
done
if [ ! -f node_modules/axe-core/axe.min.js ] || [ ! -f "$jar" ]; then
  # --ignore-scripts: vnu-jar's postinstall would download a JRE; the system java is used instead.
  npm ci --no-audit --no-fund --ignore-scripts
fi

export FORGEKEYS_E2E_REQUIRED=1 FORGEKEYS_E2E_OUT="$out"
status=0
cargo test --test e2e "${1:-quality}" -- --nocapture || status=$?

# The test already fails on any checker error; list them once more in vnu's own words.
if compgen -G "$out/pages/*.html" >/dev/null; then
  echo "== Nu Html Checker over $out/pages"
  if java -jar "$jar" --errors-only --also-check-css "$out"/pages/*.html static/*.css; then
    echo "no HTML errors in $(ls "$out"/pages/*.html | wc -l) pages"
  else
    status=1
  fi
fi
echo "pages: $out/pages/  screenshots: $out/*.png  vnu report: $out/vnu.json"
exit "$status"
