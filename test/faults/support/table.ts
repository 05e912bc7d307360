// The reliability table of the last fault-test run (every row under bench/results/tmp/faults/):
//   npx tsx test/faults/support/table.ts          prints it;
//   npx tsx test/faults/support/table.ts --write  also writes bench/results/faults.json, whose table
//   `node bench/lib/update-readme.mjs faults` puts into docs/reliability.md.
import { join } from 'node:path';
import { resultsDir, runInfo, writeJson } from '../../../bench/lib/report.js';
import { markdownTable, readRows, RESULTS_DIR } from './ledger.js';

const rows = readRows();
if (rows.length === 0) {
  process.stderr.write(`no rows under ${RESULTS_DIR}; run the fault tests first\n`);
  process.exit(1);
}
const table = markdownTable(rows);
process.stdout.write(`${table}\n`);
if (process.argv.includes('--write')) {
  await writeJson(join(resultsDir(), 'faults.json'), { benchmark: 'faults', ...runInfo(), rows, headlineMarkdown: table });
}
