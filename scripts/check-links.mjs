// Checks that every relative link in README.md and docs/*.md resolves: the file or folder exists and,
// for a `#fragment` into a Markdown file, one of its headings has that anchor (GitHub's rule: lower
// case, punctuation dropped, spaces to hyphens, -1, -2... for repeats). Links inside code are skipped.
// Usage: node scripts/check-links.mjs (exit 1 and one line per broken link when any is broken)
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const files = ['README.md', ...readdirSync(join(root, 'docs')).filter((file) => file.endsWith('.md')).sort().map((file) => join('docs', file))];

/** The text outside fenced code blocks and inline code spans, line by line. */
function prose(text) {
  let fenced = false;
  return text.split('\n').map((line) => {
    if (/^\s*(```|~~~)/.test(line)) {
      fenced = !fenced;
      return '';
    }
    return fenced ? '' : line.replace(/`[^`]*`/g, '');
  });
}

const anchorCache = new Map();
function anchors(file) {
  if (!anchorCache.has(file)) {
    const seen = new Map();
    const found = new Set();
    let fenced = false;
    for (const line of readFileSync(file, 'utf8').split('\n')) {
      if (/^\s*(```|~~~)/.test(line)) fenced = !fenced;
      const heading = fenced ? null : /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(line);
      if (heading === null) continue;
      const base = heading[1].toLowerCase().replace(/[^\p{L}\p{N}\s_-]/gu, '').replace(/\s/g, '-');
      const count = seen.get(base) ?? 0;
      seen.set(base, count + 1);
      found.add(count === 0 ? base : `${base}-${count}`);
    }
    anchorCache.set(file, found);
  }
  return anchorCache.get(file);
}

const broken = [];
for (const file of files) {
  const lines = prose(readFileSync(join(root, file), 'utf8'));
  lines.forEach((line, index) => {
    for (const match of line.matchAll(/\]\(([^)\s]+)(?:\s+"[^"]*")?\)/g)) {
      const target = match[1];
      if (/^[a-z][a-z0-9+.-]*:/i.test(target)) continue; // http:, https:, mailto:
      const [path, fragment] = target.split('#');
      const resolved = path === '' ? join(root, file) : join(root, dirname(file), decodeURIComponent(path));
      const where = `${file}:${index + 1}: ${target}`;
      if (!resolved.startsWith(root) || !existsSync(resolved)) broken.push(`${where}: ${relative(root, resolved)} does not exist`);
      else if (fragment !== undefined && resolved.endsWith('.md') && statSync(resolved).isFile() && !anchors(resolved).has(fragment)) broken.push(`${where}: no heading with anchor #${fragment}`);
    }
  });
}
if (broken.length > 0) {
  console.error(`broken links:\n${broken.join('\n')}`);
  process.exit(1);
}
console.log(`links: ${files.length} files checked, all relative links resolve`);
