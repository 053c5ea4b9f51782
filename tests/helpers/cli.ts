// Runs the real stateos command as a child process, the way a user would.
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { join } from 'node:path';

export const ROOT = join(import.meta.dirname, '../..');
export const BIN = join(ROOT, 'bin/stateos.js');

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

export function stateos(args: string[], opts: { timeoutMs?: number } = {}): Promise<RunResult> {
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, ...args], { cwd: ROOT, timeout: opts.timeoutMs ?? 60_000, maxBuffer: 64 << 20 }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

export interface Served {
  proc: ChildProcess;
  url: string;
  /** rtsp://HOST:PORT of the RTSP gateway (undefined with --rtsp off). */
  rtspUrl?: string;
  stdout: () => string;
  stderr: () => string;
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/** Starts `stateos serve` on free loopback ports (HTTP, and RTSP unless --rtsp is given) and waits for its "serving" line. */
export function serve(args: string[]): Promise<Served> {
  const rtsp = args.includes('--rtsp') ? [] : ['--rtsp', '127.0.0.1:0'];
  const proc = spawn(process.execPath, [BIN, 'serve', '--http', '127.0.0.1:0', ...rtsp, ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  proc.stderr.on('data', (d: Buffer) => (err += d.toString()));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      proc.kill('SIGKILL');
      reject(new Error(`serve did not start: ${err}`));
    }, 60_000);
    proc.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`serve exited with ${code}: ${err}`));
    });
    proc.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /serving (http:\/\/[\d.]+:\d+)/.exec(out);
      if (!m) return;
      clearTimeout(timer);
      proc.removeAllListeners('exit');
      resolve({
        proc,
        url: m[1],
        rtspUrl: /^stateos rtsp (rtsp:\/\/\S+)$/m.exec(out)?.[1],
        stdout: () => out,
        stderr: () => err,
        stop: (signal = 'SIGTERM') =>
          new Promise((done) => {
            if (proc.exitCode !== null) return done(proc.exitCode);
            proc.once('exit', (code) => done(code));
            proc.kill(signal);
          }),
      });
    });
  });
}
