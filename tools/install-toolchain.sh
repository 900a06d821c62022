#!/usr/bin/env bash
# Exposes the npm-installed compiler and node binaries where the Python tooling looks for them:
#   .solcx/solc-v<version>  the compiler, as py-solc-x / ape-solidity run it (SOLCX_BINARY_PATH=.solcx)
#   .tools/bin/anvil, cast  foundry's native binaries (ape-foundry runs `anvil` from PATH)
# A native solc of exactly the pinned version on PATH is preferred when present; solcjs is the same compiler
# built to WebAssembly, so the bytecode does not depend on which of the two runs.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
version="$(node -p "require('./package.json').devDependencies.solc")"
mkdir -p .solcx .tools/bin
compiler=".solcx/solc-v$version"
if command -v solc >/dev/null 2>&1 && solc --version 2>/dev/null | grep -q "Version: $version+"; then
  ln -sf "$(command -v solc)" "$compiler"
else
  cat > "$compiler" <<SH
#!/bin/sh
exec node "\$(dirname "\$0")/../tools/solc-adapter.cjs" "\$@"
SH
  chmod +x "$compiler"
fi
"$compiler" --version | grep -q "Version: $version+commit." || { echo "compiler adapter did not report solc $version" >&2; exit 1; }

# The @foundry-rs/<tool> packages carry the binary in a per-platform package; link it directly so that
# signals from ape-foundry reach anvil itself rather than a node wrapper.
platform="$(node -p "({linux:'linux',darwin:'darwin',win32:'win32'})[process.platform] + '-' + ({x64:'amd64',arm64:'arm64'})[process.arch]")"
for tool in anvil cast; do
  native="node_modules/@foundry-rs/$tool-$platform/bin/$tool"
  if [ -x "$native" ]; then ln -sf "../../$native" ".tools/bin/$tool"; else ln -sf "../../node_modules/.bin/$tool" ".tools/bin/$tool"; fi
  ".tools/bin/$tool" --version >/dev/null
done
