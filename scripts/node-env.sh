#!/usr/bin/env bash
# Puts the Node that scripts/provision.sh fetched (into .cache/node/, when the machine's is older than 22) first on
# PATH, so that node, npm, npx and every `#!/usr/bin/env node` tool run on it.
#
#   bash scripts/node-env.sh vitest run test/foo.test.ts   # one command on the project's Node
#   source scripts/node-env.sh                             # this shell (then npx, npm as usual)
_assetline_node_bin="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/.cache/node/bin"
if [ -x "$_assetline_node_bin/node" ]; then
  case ":$PATH:" in
    *":$_assetline_node_bin:"*) ;;
    *) export PATH="$_assetline_node_bin:$PATH" ;;
  esac
fi
unset _assetline_node_bin
if [ "${BASH_SOURCE[0]}" = "$0" ] && [ "$#" -gt 0 ]; then
  # npm run puts node_modules/.bin on PATH for scripts; so does this, for tsx and vitest.
  PATH="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/node_modules/.bin:$PATH" exec "$@"
fi
