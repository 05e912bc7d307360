import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { resultsDir } from '../lib/report.js';
import { SCENARIOS, TOPOLOGIES } from './plan.js';
import type { TopologySpec } from './types.js';

/**
 * Draws bench/results/topology-layout.svg from the declarations of topologies A, B, C, S and K in the
 * broker-1g scenario: each host with its servers and roles, its link to the bridge labelled with the
 * link's rate.
 * Usage: node dist/bench/topology/layout.js
 */
const HOST_W = 170;
const HOST_GAP = 18;
const HOST_H = 82;
const PANEL_H = 214;
const MARGIN = 20;
const FONT = "font-family='DejaVu Sans, Arial, sans-serif'";
/** What each declared role is, for the figure. */
const ROLES: Record<string, string> = {
  generator: 'generator (producer)',
  dispatcher: 'dispatcher',
  workers: 'process pool of 4',
  'group-a': 'group A: dispatcher',
  'group-b': 'group B: dispatcher',
  'workers-a': '2 remote workers',
  'workers-b': '2 remote workers',
};

const escape = (text: string) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
const rate = (mbit: number) => (mbit >= 1000 ? `${mbit / 1000} Gbit/s` : `${mbit} Mbit/s`);
interface TextStyle {
  size?: number;
  anchor?: 'start' | 'middle';
  bold?: boolean;
  fill?: string;
}
const text = (x: number, y: number, value: string, { size = 12, anchor = 'middle', bold = false, fill = '#111' }: TextStyle = {}) =>
  `<text x='${x}' y='${y}' ${FONT} font-size='${size}' text-anchor='${anchor}' font-weight='${bold ? 'bold' : 'normal'}' fill='${fill}'>${escape(value)}</text>`;

/** One topology: its hosts in a row, the bridge below, one link per host labelled with its rate. */
function panel(title: string, spec: TopologySpec, top: number): string {
  const parts = [text(MARGIN, top + 16, `Topology ${title}`, { size: 15, bold: true, anchor: 'start' })];
  const hostsTop = top + 32;
  const bridgeY = top + PANEL_H - 44;
  const width = spec.hosts.length * (HOST_W + HOST_GAP) - HOST_GAP;
  spec.hosts.forEach((host, i) => {
    const x = MARGIN + i * (HOST_W + HOST_GAP);
    const cx = x + HOST_W / 2;
    const slow = host.linkMbit < 10_000;
    const lines = [
      ...spec.servers.filter((s) => s.host === host.name).map((s) => (s.kind === 'kafka' ? `${s.name}: Kafka (KRaft)` : `${s.name}: redis-server :${s.port}`)),
      ...Object.entries(spec.roles)
        .filter(([, on]) => on === host.name)
        .flatMap(([role]) => (role.startsWith('group-') ? [ROLES[role] ?? role, '+ process pool of 2'] : [ROLES[role] ?? role])),
    ];
    parts.push(
      `<line x1='${cx}' y1='${hostsTop + HOST_H}' x2='${cx}' y2='${bridgeY}' stroke='${slow ? '#d62728' : '#555'}' stroke-width='${slow ? 2 : 6}'/>`,
      `<rect x='${cx - 44}' y='${hostsTop + HOST_H + 22}' width='88' height='20' rx='3' fill='white'/>`,
      text(cx, hostsTop + HOST_H + 36, rate(host.linkMbit), { bold: true, fill: slow ? '#d62728' : '#333' }),
      `<rect x='${x}' y='${hostsTop}' width='${HOST_W}' height='${HOST_H}' rx='6' fill='#eef3fa' stroke='#4a6fa5' stroke-width='1.5'/>`,
      text(cx, hostsTop + 20, `${host.name} host`, { size: 13, bold: true }),
      ...lines.map((line, k) => text(cx, hostsTop + 42 + k * 17, line)),
    );
  });
  parts.push(
    `<rect x='${MARGIN}' y='${bridgeY}' width='${width}' height='26' rx='4' fill='#444'/>`,
    text(MARGIN + width / 2, bridgeY + 17, 'bridge (its own namespace): a tbf limit on both ends of every veth', { fill: 'white' }),
  );
  return parts.join('\n');
}

const scenario = SCENARIOS.find((s) => s.name === 'broker-1g')!;
const widest = Math.max(...TOPOLOGIES.map((plan) => plan.spec(scenario).hosts.length)) * (HOST_W + HOST_GAP) - HOST_GAP + 2 * MARGIN;
const footer = 'Link rates as declared for broker-1g; all-10g sets every link to 10 Gbit/s, all-1g every link to 1 Gbit/s, storage-1g only the storage host\'s. No added delay.';
const height = TOPOLOGIES.length * PANEL_H + 40;
const svg = [
  `<svg xmlns='http://www.w3.org/2000/svg' width='${widest}' height='${height}' viewBox='0 0 ${widest} ${height}'>`,
  `<rect width='${widest}' height='${height}' fill='white'/>`,
  ...TOPOLOGIES.map((plan, i) => panel(plan.title, plan.spec(scenario), 8 + i * PANEL_H)),
  text(MARGIN, height - 14, footer, { anchor: 'start', fill: '#333' }),
  '</svg>',
].join('\n');
const path = join(resultsDir(), 'topology-layout.svg');
await writeFile(path, `${svg}\n`);
console.log(`wrote ${path}`);
