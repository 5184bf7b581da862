#!/usr/bin/env node
'use strict';
// Reads `npm pack --dry-run --json` on stdin and checks the tarball holds what
// Node-RED and the ford-sim bin need, and nothing from src/, test/ or build/.
const path = require('node:path');
const pkg = require('../package.json');

let input = '';
process.stdin.on('data', (chunk) => (input += chunk));
process.stdin.on('end', () => {
  const report = JSON.parse(input.slice(input.indexOf('[')));
  const files = new Set(report[0].files.map((f) => f.path));
  const problems = [];
  const need = (file, why) => {
    if (!files.has(file)) problems.push(`missing ${file} (${why})`);
  };

  need('package.json', 'the manifest');
  need('README.md', 'the palette manager shows it');
  need('LICENSE', 'Apache-2.0');
  for (const bin of Object.values(pkg.bin)) need(path.normalize(bin), 'bin entry');
  need(path.normalize(pkg.main), 'library entry');
  for (const [type, file] of Object.entries(pkg['node-red'].nodes)) {
    need(path.normalize(file), `node ${type}`);
    need(path.normalize(file).replace(/\.js$/, '.html'), `editor of ${type}`);
  }
  const allowed = /^(dist\/|examples\/|icons\/|README\.md$|LICENSE$|package\.json$)/;
  for (const file of files) {
    if (!allowed.test(file)) problems.push(`unexpected file in the package: ${file}`);
    if (/\.test\.js$|\.ts$(?<!\.d\.ts)/.test(file) && !file.endsWith('.d.ts')) problems.push(`source or test file shipped: ${file}`);
  }

  if (problems.length > 0) {
    console.error(`npm pack check failed:\n  ${problems.join('\n  ')}`);
    process.exit(1);
  }
  console.log(`npm pack check: ${files.size} files, ${(report[0].size / 1024).toFixed(1)} kB packed, everything Node-RED needs is there.`);
});
