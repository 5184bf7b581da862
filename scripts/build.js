#!/usr/bin/env node
'use strict';
// Compiles src/ to dist/ and puts each node's editor files (.html, locales/)
// and the icons where Node-RED's registry looks for them: next to the node's .js.
const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const dist = path.join(root, 'dist');

fs.rmSync(dist, { recursive: true, force: true });
execFileSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', path.join(root, 'tsconfig.json')], {
  stdio: 'inherit',
});

const nodesSrc = path.join(root, 'src', 'nodes');
const nodesDist = path.join(dist, 'nodes');
if (fs.existsSync(nodesSrc)) {
  fs.mkdirSync(nodesDist, { recursive: true });
  fs.cpSync(nodesSrc, nodesDist, {
    recursive: true,
    filter: (src) => fs.statSync(src).isDirectory() || !src.endsWith('.ts'),
  });
  const icons = path.join(root, 'icons');
  if (fs.existsSync(icons)) fs.cpSync(icons, path.join(nodesDist, 'icons'), { recursive: true });
}

// The CLI entries are run directly by npm's bin links.
for (const bin of ['cli/ford-sim.js', 'cli/start.js']) {
  const file = path.join(dist, bin);
  if (fs.existsSync(file)) fs.chmodSync(file, 0o755);
}
