#!/usr/bin/env node
// Runs the npm `solc` package (the official compiler built to WebAssembly) behind the command-line
// interface that py-solc-x and ape-solidity expect of a native solc binary:
//   solc-vX.Y.Z --version
//   solc-vX.Y.Z --standard-json [--base-path P] [--include-path P]... [--allow-paths P,Q] [-]  < input.json
// The output of --standard-json is pure JSON on stdout (errors included in it, as native solc does), and
// the process exits only after stdout has drained, so large outputs are never cut at the pipe size.
"use strict";
const fs = require("fs");
const path = require("path");

function loadSolc() {
  // The adapter lives in tools/, the compiler in the project's node_modules.
  const projectRoot = path.resolve(__dirname, "..");
  return require(require.resolve("solc", { paths: [projectRoot, __dirname] }));
}

function fail(message, code = 1) {
  process.stderr.write(`Error: ${message}\n`);
  process.exit(code);
}

function parseArgs(argv) {
  const opts = { basePath: null, includePaths: [], allowPaths: [], standardJson: false, version: false };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const [flag, inlineValue] = arg.startsWith("--") && arg.includes("=") ? arg.split(/=(.*)/s) : [arg, undefined];
    const value = () => (inlineValue !== undefined ? inlineValue : argv[++i]);
    switch (flag) {
      case "--version": opts.version = true; break;
      case "--standard-json": opts.standardJson = true; break;
      case "--base-path": opts.basePath = value(); break;
      case "--include-path": opts.includePaths.push(value()); break;
      case "--allow-paths": opts.allowPaths.push(...value().split(",").filter(Boolean)); break;
      case "-": break; // read the input from stdin, which --standard-json does anyway
      default: fail(`unrecognised option '${arg}'`);
    }
  }
  return opts;
}

// Resolve an import the way native solc's file loader does: a source unit name is looked up under the
// base path, then under each include path; an absolute name is read as is. Reads are confined to the
// base, include and allowed paths.
function makeImportReader(opts) {
  const roots = [opts.basePath || process.cwd(), ...opts.includePaths].map((p) => path.resolve(p));
  const allowed = [...roots, ...opts.allowPaths.map((p) => path.resolve(p))];
  const isAllowed = (file) => allowed.some((dir) => file === dir || file.startsWith(dir + path.sep));
  return (sourceUnitName) => {
    const candidates = path.isAbsolute(sourceUnitName)
      ? [path.resolve(sourceUnitName)]
      : roots.map((root) => path.resolve(root, sourceUnitName));
    for (const file of candidates) {
      if (!isAllowed(file)) continue;
      if (fs.existsSync(file) && fs.statSync(file).isFile()) {
        return { contents: fs.readFileSync(file, "utf8") };
      }
    }
    return { error: `File not found. Searched the following locations: ${candidates.map((c) => `"${c}"`).join(", ")}.` };
  };
}

function main() {
  const opts = parseArgs(process.argv.slice(2));
  const solc = loadSolc();
  if (opts.version) {
    process.stdout.write(`solc, the solidity compiler commandline interface\nVersion: ${solc.version()}\n`);
    return;
  }
  if (!opts.standardJson) fail("only --version and --standard-json are supported by this adapter");
  const input = fs.readFileSync(0, "utf8");
  const output = solc.compile(input, { import: makeImportReader(opts) });
  process.stdout.write(output, () => process.exit(0));
}

main();
