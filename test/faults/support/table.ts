// Prints the reliability table of the last fault-test run: npx tsx test/faults/support/table.ts
import { markdownTable, readRows, RESULTS_DIR } from './ledger.js';

const rows = readRows();
process.stdout.write(rows.length === 0 ? `no rows under ${RESULTS_DIR}; run the fault tests first\n` : `${markdownTable(rows)}\n`);
