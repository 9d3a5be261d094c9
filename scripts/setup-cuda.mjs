#!/usr/bin/env node
// Installs onnxruntime's CUDA execution provider next to onnxruntime-node's binding.
//
//   npm run setup:cuda                 online: onnxruntime-node's own installer fetches the CUDA 12
//                                      provider (NuGet package Microsoft.ML.OnnxRuntime.Gpu.Linux)
//   npm run setup:cuda -- --from DIR   offline: copy the provider libraries from DIR (an unpacked
//                                      NuGet package, an onnxruntime-gpu wheel's onnxruntime/capi/, ...)
//   npm run setup:cuda -- --check      only report what is installed
//
// `npm ci` skips the download on purpose (package.json: allowScripts denies onnxruntime-node's install
// script, honoured by npm 11.19+), because it reaches outside the npm registry and fails on machines that
// only see the registry. With an older npm offline: ONNXRUNTIME_NODE_INSTALL=skip npm ci.
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, readdirSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

const require = createRequire(import.meta.url);
const ortDir = dirname(require.resolve('onnxruntime-node/package.json'));
const ortVersion = JSON.parse(require('node:fs').readFileSync(join(ortDir, 'package.json'), 'utf8')).version;
const binDir = join(ortDir, 'bin', 'napi-v6', process.platform, process.arch);
const LIBS = ['libonnxruntime_providers_cuda.so', 'libonnxruntime_providers_shared.so'];

const args = process.argv.slice(2);
const fromIdx = args.indexOf('--from');
const installed = () => LIBS.every((l) => existsSync(join(binDir, l)));

function offlineHelp(reason) {
  console.error(`setup:cuda: ${reason}

To install the CUDA provider without network access, copy these files into
  ${binDir}/
    ${LIBS.join('\n    ')}
taken from onnxruntime ${ortVersion}'s Linux GPU build, e.g. the NuGet package
Microsoft.ML.OnnxRuntime.Gpu.Linux ${ortVersion} (runtimes/linux-x64/native/), or the same version's
onnxruntime-gpu Python wheel (onnxruntime/capi/). Then: npm run setup:cuda -- --from <that folder>
(it copies and checks them). The provider needs the CUDA 12 runtime, cuBLAS and cuDNN 9 libraries
on LD_LIBRARY_PATH (for example from pip's nvidia-* packages: site-packages/nvidia/*/lib).
The provider's version must match onnxruntime-node's (${ortVersion}) exactly.`);
}

function findLib(root, name) {
  const stack = [root];
  while (stack.length) {
    const d = stack.pop();
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) stack.push(p);
      else if (e.name === name) return p;
    }
  }
  return null;
}

if (process.platform !== 'linux' || process.arch !== 'x64') {
  console.error(
    `setup:cuda: onnxruntime-node's CUDA provider exists for linux/x64 only (this is ${process.platform}/${process.arch})`,
  );
  process.exit(2);
}

if (args.includes('--check')) {
  console.log(installed() ? `CUDA provider installed in ${binDir}` : `CUDA provider not installed (${binDir})`);
  process.exit(installed() ? 0 : 1);
}

if (fromIdx !== -1) {
  const src = args[fromIdx + 1];
  if (!src || !existsSync(src) || !statSync(src).isDirectory()) {
    offlineHelp(`--from needs a directory (got ${src ?? 'nothing'})`);
    process.exit(2);
  }
  for (const lib of LIBS) {
    const found = findLib(src, lib);
    if (!found) {
      offlineHelp(`${lib} not found under ${src}`);
      process.exit(2);
    }
    copyFileSync(found, join(binDir, lib));
    console.log(`copied ${found} -> ${binDir}/${lib}`);
  }
} else if (!installed()) {
  console.log(`setup:cuda: fetching onnxruntime ${ortVersion}'s CUDA 12 provider with onnxruntime-node's installer...`);
  const r = spawnSync(process.execPath, [join(ortDir, 'script', 'install.js')], {
    stdio: 'inherit',
    env: { ...process.env, ONNXRUNTIME_NODE_INSTALL: 'cuda12', npm_config_onnxruntime_node_install: 'cuda12' },
    cwd: ortDir,
  });
  if (r.status !== 0 || !installed()) {
    offlineHelp('the download failed (no network, or the package source is unreachable).');
    process.exit(1);
  }
}
console.log(
  `setup:cuda: CUDA provider installed in ${binDir}. Check with: npx tailguard score examples/sample.jsonl --out runs/gpu --device cuda`,
);
