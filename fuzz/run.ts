// `npm run fuzz`: every fuzz target with a case budget (docs/SECURITY.md, "Fuzzing").
//   npm run fuzz                          the long run: every target at its own budget (1.1 M cases in all)
//   npm run fuzz -- --cases N             N cases per target
//   npm run fuzz -- --only stu,rtsp-parser --seed S [--path P]
//   npm run fuzz -- --jobs 2 --list
// Each target runs in a child process (two at a time by default): a case that never returns, or a child that
// dies (out of memory from a trusted size field, a crash), is seen by this process and reported with the
// seed of the chunk it was in. Progress per target goes to stderr; the summary table to stdout. Exit status
// 1 on any failure.
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { runTarget, type TargetResult } from './lib/harness.ts';
import { TARGETS } from './targets/index.ts';

/** A child that reports nothing for this long is stuck in one case. */
const STALL_MS = 60_000;

interface Args {
  cases?: number;
  only?: string[];
  seed: number;
  path?: string;
  jobs: number;
  child?: string;
  list: boolean;
}

function parseArgs(argv: string[]): Args {
  const a: Args = { seed: Date.now() % 2 ** 31, jobs: 2, list: false };
  for (let i = 0; i < argv.length; i++) {
    const k = argv[i];
    const v = () => {
      const x = argv[++i];
      if (x === undefined) throw new Error(`${k} needs a value`);
      return x;
    };
    const int = (s: string) => {
      const n = Number(s);
      if (!Number.isSafeInteger(n)) throw new Error(`${k}: ${s} is not an integer`);
      return n;
    };
    if (k === '--cases') a.cases = int(v());
    else if (k === '--only') a.only = v().split(',');
    else if (k === '--seed') a.seed = int(v());
    else if (k === '--path') a.path = v();
    else if (k === '--jobs') a.jobs = Math.max(1, int(v()));
    else if (k === '--child') a.child = v();
    else if (k === '--list') a.list = true;
    else throw new Error(`unknown option ${k} (--cases N, --only A,B, --seed S, --path P, --jobs N, --list)`);
  }
  return a;
}

type FromChild = { type: 'progress'; cases: number; ms: number; maxMs: number } | { type: 'result'; result: TargetResult };

async function child(a: Args): Promise<void> {
  const t = TARGETS.find((x) => x.name === a.child);
  if (!t) throw new Error(`no target ${a.child}`);
  const send = (m: FromChild) => process.send?.(m);
  const result = await runTarget(t, { cases: a.cases ?? t.cases, seed: a.seed, path: a.path, onProgress: (cases, ms, maxMs) => send({ type: 'progress', cases, ms, maxMs }) });
  send({ type: 'result', result });
  process.exit(0);
}

const fmt = (n: number) => n.toLocaleString('en-US');

function runChild(name: string, a: Args, budget: number): Promise<TargetResult> {
  const self = fileURLToPath(import.meta.url);
  const args = ['--child', name, '--cases', String(budget), '--seed', String(a.seed), ...(a.path ? ['--path', a.path] : [])];
  const started = performance.now();
  return new Promise((resolve) => {
    const c = fork(self, args, { execArgv: ['--import', 'tsx', '--max-old-space-size=1536'], stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
    let last = { cases: 0, maxMs: 0 };
    let lastPrint = 0;
    let result: TargetResult | undefined;
    let stalled = false;
    let watchdog = setTimeout(stall, STALL_MS);
    function stall() {
      stalled = true;
      c.kill('SIGKILL');
    }
    c.on('message', (m: FromChild) => {
      clearTimeout(watchdog);
      watchdog = setTimeout(stall, STALL_MS);
      if (m.type === 'result') result = m.result;
      else {
        last = m;
        const now = performance.now();
        if (now - lastPrint > 5000 || m.cases >= budget) {
          lastPrint = now;
          process.stderr.write(`fuzz ${name}: ${fmt(m.cases)}/${fmt(budget)} cases, ${fmt(Math.round((m.cases * 1000) / Math.max(1, m.ms)))}/s, ${(m.ms / 1000).toFixed(1)} s, slowest ${m.maxMs.toFixed(1)} ms\n`);
        }
      }
    });
    c.on('exit', (code, signal) => {
      clearTimeout(watchdog);
      if (result) return resolve(result);
      const why = stalled ? `no progress for ${STALL_MS / 1000} s: a case hangs (after ${fmt(last.cases)} cases)` : `the fuzz process died (exit ${code}, signal ${signal}) after ${fmt(last.cases)} cases`;
      resolve({
        name,
        cases: last.cases,
        failures: 1,
        maxMs: last.maxMs,
        ms: performance.now() - started,
        network: TARGETS.find((t) => t.name === name)?.network === true,
        failure: { seed: a.seed, input: '(not known: replay with the seed)', error: why },
      });
    });
  });
}

async function main(): Promise<number> {
  const a = parseArgs(process.argv.slice(2));
  if (a.child) {
    await child(a);
    return 0;
  }
  const targets = a.only ? a.only.map((n) => TARGETS.find((t) => t.name === n) ?? (() => { throw new Error(`no target ${n}; --list shows them`); })()) : TARGETS;
  if (a.list) {
    for (const t of targets) process.stdout.write(`${t.name.padEnd(18)} ${fmt(t.cases).padStart(9)} cases${t.network ? ' (network)' : ''}  ${t.what}\n`);
    return 0;
  }
  const total = targets.reduce((n, t) => n + (a.cases ?? t.cases), 0);
  process.stderr.write(`fuzz: ${targets.length} targets, ${fmt(total)} cases, seed ${a.seed}, ${a.jobs} at once\n`);
  const started = performance.now();
  const results: TargetResult[] = [];
  const queue = [...targets];
  const worker = async () => {
    for (let t = queue.shift(); t; t = queue.shift()) results.push(await runChild(t.name, a, a.cases ?? t.cases));
  };
  await Promise.all(Array.from({ length: Math.min(a.jobs, targets.length) }, worker));
  results.sort((x, y) => targets.findIndex((t) => t.name === x.name) - targets.findIndex((t) => t.name === y.name));

  const rows = [['target', 'cases', 'failures', 'max ms/case', 'cases/s', 'seconds'], ...results.map((r) => [r.name + (r.network ? ' (net)' : ''), fmt(r.cases), String(r.failures), r.maxMs.toFixed(1), fmt(Math.round((r.cases * 1000) / Math.max(1, r.ms))), (r.ms / 1000).toFixed(1)])];
  const sum = results.reduce((n, r) => n + r.cases, 0);
  const failures = results.reduce((n, r) => n + r.failures, 0);
  rows.push(['total', fmt(sum), String(failures), Math.max(0, ...results.map((r) => r.maxMs)).toFixed(1), '', ((performance.now() - started) / 1000).toFixed(1)]);
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  const line = (r: string[]) => r.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  process.stdout.write(`\n${line(rows[0])}\n${widths.map((w) => '-'.repeat(w)).join('  ')}\n${rows.slice(1).map(line).join('\n')}\n`);
  process.stdout.write(`\nseed ${a.seed}; (net): each case is a socket round trip to a running server (HTTP, RTSP), so smaller budgets.\n`);
  for (const r of results) {
    if (!r.failure) continue;
    const f = r.failure;
    process.stdout.write(`\nFAILED ${r.name}: ${f.error}\n  replay: npm run fuzz -- --only ${r.name} --seed ${f.seed}${f.path ? ` --path ${f.path}` : ''}\n  counterexample: ${f.input}\n`);
  }
  return failures ? 1 : 0;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    process.stderr.write(`fuzz: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exitCode = 2;
  },
);
