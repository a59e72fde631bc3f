/**
 * Summarise `.cpuprofile` files (from `npm run bench -- --cpu-prof DIR`): the top functions by
 * self time, as a share of the profile's busy time (all samples except `(idle)`). Samples under
 * module loading (start-up: tsx compiling and Node linking modules) are counted apart, as
 * `(start-up: module loading)`, and left out of the percentages, so that the table shows the
 * steady state of the workload.
 *
 * Usage: `tsx bench/profile-summary.ts [--top 15] (FILE.cpuprofile | DIR)…` — for a directory
 * (one per process, as run.ts writes them), only the main thread's profile is read: Node names
 * profiles `CPU.<date>.<time>.<pid>.<tid>.<seq>.cpuprofile` and the tsx loader thread has tid ≠ 0.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, join, relative } from 'node:path';

interface CallFrame { functionName: string; url: string; lineNumber: number; columnNumber: number }
interface ProfileNode { id: number; callFrame: CallFrame; children?: number[] }
interface Profile { nodes: ProfileNode[]; samples: number[]; timeDeltas: number[]; startTime: number; endTime: number }

const argv = process.argv.slice(2);
let top = 15;
const files: string[] = [];
for (let i = 0; i < argv.length; i++) {
  if (argv[i] === '--top') top = Number(argv[++i]);
  else if (statSync(argv[i]!).isDirectory()) {
    const dir = argv[i]!;
    for (const f of readdirSync(dir)) if (/\.\d+\.0\.\d+\.cpuprofile$/.test(f)) files.push(join(dir, f));
  } else files.push(argv[i]!);
}
if (files.length === 0) {
  process.stderr.write('usage: tsx bench/profile-summary.ts [--top 15] FILE.cpuprofile…\n');
  process.exit(1);
}

/** A coarse bucket for the by-area table: a package, a src/ directory, Node, or native code. */
function area(frame: CallFrame, name: string): string {
  if (name === '(garbage collector)') return 'GC';
  if (name === '(program)') return '(program: VM, not JS)';
  const url = frame.url;
  if (url === '') return name === 'writev' || name === 'writeBuffer' || name === 'writeUtf8String' ? 'socket writes (syscall)' : 'native';
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(url);
  if (pkg !== null) return pkg[1]!;
  if (url.startsWith('node:')) return 'node internals';
  const src = /\/(src\/[^/]+)\//.exec(url) ?? /\/((?:src|bench|operators)\/[^/]+)$/.exec(url);
  return src !== null ? src[1]! : url;
}

function where(frame: CallFrame): string {
  if (frame.url === '') return '';
  let url = frame.url.replace(/^file:\/\//, '');
  if (url.startsWith('/')) url = relative(process.cwd(), url);
  url = url.replace(/^.*node_modules\//, '');
  return `${url}:${frame.lineNumber + 1}`;
}

for (const file of files) {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile;
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const parent = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);
  const loading = new Map<number, boolean>();
  const isLoading = (id: number): boolean => {
    const known = loading.get(id);
    if (known !== undefined) return known;
    const frame = byId.get(id)!.callFrame;
    const here = frame.url.startsWith('node:internal/modules/') || frame.functionName === 'waitForWorker'
      || frame.functionName === 'makeSyncRequest' || frame.functionName === 'wrapSafe';
    const up = parent.get(id);
    const result = here || (up !== undefined && isLoading(up));
    loading.set(id, result);
    return result;
  };
  const self = new Map<string, number>();
  const areas = new Map<string, number>();
  let total = 0;
  let idle = 0;
  let startup = 0;
  for (let i = 0; i < profile.samples.length; i++) {
    const node = byId.get(profile.samples[i]!)!;
    const dt = profile.timeDeltas[i] ?? 0;
    const name = node.callFrame.functionName || '(anonymous)';
    if (name === '(idle)') { idle += dt; continue; }
    if (isLoading(node.id)) { startup += dt; continue; }
    total += dt;
    const key = `${name} ${where(node.callFrame)}`.trim();
    self.set(key, (self.get(key) ?? 0) + dt);
    const a = area(node.callFrame, name);
    areas.set(a, (areas.get(a) ?? 0) + dt);
  }
  const wall = (profile.endTime - profile.startTime) / 1000;
  process.stdout.write(`\n### ${basename(join(file, '..'))}/${basename(file)}\nbusy ${(total / 1000).toFixed(0)} ms of ${wall.toFixed(0)} ms profiled (idle ${(idle / 1000).toFixed(0)} ms, start-up module loading ${(startup / 1000).toFixed(0)} ms, left out)\n\n`);
  process.stdout.write('| self % | self ms | function |\n|---:|---:|---|\n');
  const rows = [...self.entries()].sort((a, b) => b[1] - a[1]).slice(0, top);
  for (const [key, us] of rows) {
    process.stdout.write(`| ${((100 * us) / total).toFixed(1)} | ${(us / 1000).toFixed(0)} | \`${key}\` |\n`);
  }
  process.stdout.write('\nBy area: ' + [...areas.entries()].sort((a, b) => b[1] - a[1])
    .filter(([, us]) => us / total >= 0.01)
    .map(([a, us]) => `${a} ${((100 * us) / total).toFixed(0)}%`).join(', ') + '\n');
}
