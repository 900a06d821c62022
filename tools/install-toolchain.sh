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

# OpenZeppelin as Ape `local:` dependencies holding only the Solidity sources of the pinned npm packages: the
# packages also ship ~360 compiled JSON artifacts, and Ape lists at most 500 files under contracts/ (its
# dependency .cache included), so with them the project's own sub-folders silently drop out of compilation.
for pkg in contracts contracts-upgradeable; do
  src="node_modules/@openzeppelin/$pkg"
  dest=".deps/openzeppelin-$pkg"
  rm -rf "$dest" && mkdir -p "$dest"
  (cd "$src" && find . -name '*.sol' -exec cp --parents {} "$root/$dest/" \;)
done

# The @foundry-rs/<tool> packages carry the binary in a per-platform package; link it directly so that
# signals from ape-foundry reach anvil itself rather than a node wrapper.
platform="$(node -p "({linux:'linux',darwin:'darwin',win32:'win32'})[process.platform] + '-' + ({x64:'amd64',arm64:'arm64'})[process.arch]")"
for tool in anvil cast; do
  native="node_modules/@foundry-rs/$tool-$platform/bin/$tool"
  if [ -x "$native" ]; then ln -sf "../../$native" ".tools/bin/$tool"; else ln -sf "../../node_modules/.bin/$tool" ".tools/bin/$tool"; fi
  ".tools/bin/$tool" --version >/dev/null
done
