// Rewrites the generated blocks of README.md and docs/*.md from bench/results/NAME.json, so result tables
// and the numbers quoted beside them always come from the JSON a run wrote:
// - between `<!-- NAME:begin -->` and `<!-- NAME:end -->`: the JSON's `headlineMarkdown` table;
// - between `<!-- BLOCK:begin -->` and `<!-- BLOCK:end -->`: each block result-blocks.mjs derives from it
//   (for hop: `hop-summary`, `hop-rows`).
// Every file holding a block is updated; a NAME whose blocks appear in none of them is an error.
// Usage (from any directory): node bench/lib/update-readme.mjs [NAME ...] (default: hop)
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { derivedBlocks } from './result-blocks.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const files = ['README.md', ...readdirSync(join(root, 'docs')).filter((file) => file.endsWith('.md')).sort().map((file) => `docs/${file}`)];
const texts = new Map(files.map((file) => [file, readFileSync(join(root, file), 'utf8')]));
const changed = new Set();

/** `text` with every `block` between its markers replaced by `body`, or undefined when it has none. */
function replaceBlocks(text, block, body, file) {
  const begin = `<!-- ${block}:begin -->`;
  const end = `<!-- ${block}:end -->`;
  let out = '';
  let rest = text;
  let found = false;
  for (let from = rest.indexOf(begin); from !== -1; from = rest.indexOf(begin)) {
    const to = rest.indexOf(end, from);
    if (to === -1) throw new Error(`${file}: ${begin} has no ${end}`);
    out += `${rest.slice(0, from + begin.length)}\n${body}\n`;
    rest = rest.slice(to);
    found = true;
  }
  return found ? out + rest : undefined;
}

const names = process.argv.length > 2 ? process.argv.slice(2) : ['hop'];
try {
  for (const name of names) {
    const results = JSON.parse(readFileSync(join(root, 'bench', 'results', `${name}.json`), 'utf8'));
    const when = results.date === undefined ? 'undated run' : `${results.date}, commit ${String(results.commit).slice(0, 7)}`;
    const stamp = `<!-- generated from bench/results/${name}.json (${when}) by bench/lib/update-readme.mjs -->`;
    const blocks = { ...(typeof results.headlineMarkdown === 'string' ? { [name]: results.headlineMarkdown } : {}), ...derivedBlocks(name, results) };
    let written = 0;
    for (const [block, markdown] of Object.entries(blocks)) {
      for (const file of files) {
        const next = replaceBlocks(texts.get(file), block, `${stamp}\n\n${markdown.trimEnd()}\n`, file);
        if (next === undefined) continue;
        texts.set(file, next);
        changed.add(file);
        written += 1;
        console.log(`${file}: ${block} block updated`);
      }
    }
    if (written === 0) {
      const markers = Object.keys(blocks).map((block) => `<!-- ${block}:begin -->`).join(', ');
      throw new Error(markers === '' ? `bench/results/${name}.json has no headlineMarkdown` : `no ${markers} block in README.md or docs/*.md`);
    }
  }
} catch (error) {
  console.error(`update-readme: ${error.message}`);
  process.exit(1); // nothing was written
}
for (const file of changed) writeFileSync(join(root, file), texts.get(file));
