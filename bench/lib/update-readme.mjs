// Replaces each generated block of README.md (between `<!-- NAME:begin -->` and `<!-- NAME:end -->`)
// with the `headlineMarkdown` of bench/results/NAME.json, so README's result tables always come from
// the JSON a run wrote. Usage: node bench/lib/update-readme.mjs [NAME ...] (default: hop)
import { readFileSync, writeFileSync } from 'node:fs';

const names = process.argv.length > 2 ? process.argv.slice(2) : ['hop'];
let readme = readFileSync('README.md', 'utf8');
for (const name of names) {
  const results = JSON.parse(readFileSync(`bench/results/${name}.json`, 'utf8'));
  const begin = `<!-- ${name}:begin -->`;
  const end = `<!-- ${name}:end -->`;
  const from = readme.indexOf(begin);
  const to = readme.indexOf(end);
  if (from === -1 || to < from) throw new Error(`README.md has no ${begin} ... ${end} block`);
  const stamp = `<!-- generated from bench/results/${name}.json (${results.date}, commit ${String(results.commit).slice(0, 7)}) by bench/lib/update-readme.mjs -->`;
  readme = `${readme.slice(0, from + begin.length)}\n${stamp}\n\n${results.headlineMarkdown}\n\n${readme.slice(to)}`;
  console.log(`README.md: ${name} table updated`);
}
writeFileSync('README.md', readme);
