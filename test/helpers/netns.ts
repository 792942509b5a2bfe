// A throw-away LAN made of Linux network namespaces, for multi-host tests (mDNS, pairing, failover).
//
//   const lab = await createLab({ hosts: ['mac', 'pc', 'phone'] });
//   const mac = lab.host('mac');               // { ns, ifname: 'eth0', address: '10.x.y.2', prefix }
//   await lab.exec('phone', ['ip', '-o', 'addr']);
//   await startHeadless({ prefix: mac.prefix, ... });   // a process inside the namespace
//   await lab.teardown();                      // always (also runs on process exit)
//
// Layout: one "switch" namespace holds a bridge; every host namespace gets a veth pair whose inner
// end is `eth0` (so it shows as `eth0@ifN`, like a container) with an address in a /24 that is
// unique to this lab, and whose outer end is enslaved to the bridge. Nothing is created in the
// root namespace, so no packet of a lab can reach the machine's real interfaces, and labs of
// parallel test files cannot see each other. Each host namespace also has `lo` up and a multicast
// route on eth0 (what a LAN's default route gives a real host).
//
// Names carry the creating pid (`umlab-<pid>-<n>-…`): a lab left behind by a killed run is swept
// by the next createLab() once its pid is gone. Needs root (CAP_SYS_ADMIN + CAP_NET_ADMIN) and
// `ip` (iproute2); `netnsSupport()` says whether this machine can make namespaces, and why not.

import { spawn, spawnSync, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { randomInt } from 'node:crypto';

export interface LabHost {
  /** The short name given to createLab (`mac`, `phone`, …). */
  name: string;
  /** The namespace name (for `ip netns exec`). */
  ns: string;
  /** The interface inside the namespace that is on the lab LAN. */
  ifname: string;
  /** Its IPv4 address (no prefix length). */
  address: string;
  /** argv prefix that runs a command inside this namespace: `[...prefix, cmd, ...args]`. */
  prefix: string[];
}

export interface ExecResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface Lab {
  readonly id: string;
  /** The lab LAN, e.g. `10.213.7.0/24`. */
  readonly subnet: string;
  readonly hosts: readonly LabHost[];
  host(name: string): LabHost;
  /** Runs a command in a host's namespace to completion (no shell). Rejects only on spawn failure or timeout. */
  exec(
    host: string,
    argv: string[],
    opts?: { timeoutMs?: number; input?: string },
  ): Promise<ExecResult>;
  /**
   * Starts a long-running command in a host's namespace. The child is owned by the lab: teardown
   * kills it if it is still running. `ip netns exec` execs the command, so `child.pid` is the
   * command itself and signals reach it directly.
   */
  spawn(host: string, argv: string[], opts?: SpawnOptions): ChildProcess;
  /**
   * An HTTP request made from inside a host's namespace (the test process itself lives in the root
   * namespace and cannot reach the lab). JSON bodies are parsed; `body` is the raw text otherwise.
   */
  fetch(
    host: string,
    url: string,
    init?: { method?: string; headers?: Record<string, string>; body?: string; timeoutMs?: number },
  ): Promise<{ status: number; body: unknown }>;
  /**
   * Signals every process in a host's namespace: SIGKILL is a power cut (no goodbye, no handoff).
   * Needed because a wrapper (tsx, a shell) does not pass SIGKILL on to the real server.
   */
  kill(host: string, signal?: NodeJS.Signals): number[];
  /** Kills every process left in the lab's namespaces and deletes them. Idempotent. */
  teardown(): Promise<void>;
}

export interface LabOptions {
  /** Host names (letters, digits, dashes; at most 8 characters), or a count (`h1`, `h2`, …). */
  hosts: string[] | number;
  /** Bring IPv6 up on the lab LAN (link-local addresses); default true. */
  ipv6?: boolean;
}

const PREFIX = 'umlab';
let counter = 0;
const live = new Set<Lab>();

/** Whether this machine can make namespaces: `{ ok: false, reason }` explains why not (for skip messages). */
export function netnsSupport(): { ok: true } | { ok: false; reason: string } {
  if (process.platform !== 'linux')
    return { ok: false, reason: `network namespaces need Linux (this is ${process.platform})` };
  if (process.getuid?.() !== 0)
    return { ok: false, reason: 'network namespaces need root (run the tests as root, or in CI)' };
  const probe = `${PREFIX}-probe-${process.pid}`;
  const add = spawnSync('ip', ['netns', 'add', probe], { encoding: 'utf8' });
  if (add.error) return { ok: false, reason: `cannot run ip (iproute2): ${add.error.message}` };
  if (add.status !== 0)
    return {
      ok: false,
      reason: `ip netns add failed: ${add.stderr.trim() || `exit ${add.status}`}`,
    };
  const veth = spawnSync(
    'ip',
    ['-n', probe, 'link', 'add', 'name', 'pa', 'type', 'veth', 'peer', 'name', 'pb'],
    { encoding: 'utf8' },
  );
  spawnSync('ip', ['netns', 'del', probe]);
  if (veth.status !== 0)
    return {
      ok: false,
      reason: `cannot make veth pairs: ${veth.stderr.trim() || `exit ${veth.status}`}`,
    };
  return { ok: true };
}

export async function createLab(opts: LabOptions): Promise<Lab> {
  sweepStale();
  const names =
    typeof opts.hosts === 'number'
      ? Array.from({ length: opts.hosts }, (_, i) => `h${i + 1}`)
      : opts.hosts;
  if (names.length < 1 || names.length > 200) throw new Error('createLab: between 1 and 200 hosts');
  for (const n of names) {
    if (!/^[a-z0-9-]{1,8}$/i.test(n))
      throw new Error(`createLab: host name "${n}" must be 1-8 letters, digits or dashes`);
  }
  if (new Set(names).size !== names.length) throw new Error('createLab: host names must be unique');

  const id = `${PREFIX}-${process.pid}-${counter++}-${randomInt(36 ** 3).toString(36)}`;
  // A /24 unique to this lab (in 10.128.0.0/9): labs never share a subnet, even side by side.
  const octets = [128 + randomInt(128), randomInt(256)];
  const subnet = `10.${octets[0]}.${octets[1]}.0/24`;
  const sw = `${id}-sw`;
  const created: string[] = [];
  const children = new Set<ChildProcess>();
  const hosts: LabHost[] = names.map((name, i) => ({
    name,
    ns: `${id}-${name}`,
    ifname: 'eth0',
    address: `10.${octets[0]}.${octets[1]}.${i + 2}`,
    prefix: ['ip', 'netns', 'exec', `${id}-${name}`],
  }));

  let torn = false;
  const lab: Lab = {
    id,
    subnet,
    hosts,
    host(name) {
      const h = hosts.find((x) => x.name === name);
      if (!h) throw new Error(`lab ${id} has no host "${name}" (hosts: ${names.join(', ')})`);
      return h;
    },
    exec(host, argv, execOpts = {}) {
      return run([...lab.host(host).prefix, ...argv], execOpts);
    },
    spawn(host, argv, spawnOpts = {}) {
      const [cmd, ...rest] = [...lab.host(host).prefix, ...argv];
      const child = spawn(cmd!, rest, { stdio: ['ignore', 'pipe', 'pipe'], ...spawnOpts });
      children.add(child);
      child.once('exit', () => children.delete(child));
      return child;
    },
    kill(host, signal = 'SIGKILL') {
      const pids = namespacePids(lab.host(host).ns);
      for (const pid of pids) {
        try {
          process.kill(pid, signal);
        } catch {
          /* already gone */
        }
      }
      return pids;
    },
    async fetch(host, url, init = {}) {
      const script = `const [u, i] = JSON.parse(process.argv[1]);
        const r = await fetch(u, { ...i, signal: AbortSignal.timeout(i.timeoutMs ?? 10000) });
        process.stdout.write(JSON.stringify({ status: r.status, text: await r.text() }));`;
      const r = await lab.exec(
        host,
        [process.execPath, '--input-type=module', '-e', script, JSON.stringify([url, init])],
        {
          timeoutMs: (init.timeoutMs ?? 10_000) + 5_000,
        },
      );
      if (r.code !== 0)
        throw new Error(
          `fetch ${url} from ${host} failed: ${r.stderr.trim().split('\n').slice(-3).join(' ')}`,
        );
      const { status, text } = JSON.parse(r.stdout) as { status: number; text: string };
      let body: unknown = text;
      try {
        body = text ? JSON.parse(text) : undefined;
      } catch {
        /* not JSON: keep the text */
      }
      return { status, body };
    },
    async teardown() {
      if (torn) return;
      torn = true;
      live.delete(lab);
      const exits = [...children].map((c) =>
        c.exitCode !== null || c.signalCode !== null
          ? Promise.resolve()
          : new Promise<void>((r) => c.once('exit', () => r())),
      );
      for (const c of children) c.kill('SIGKILL');
      await Promise.race([Promise.all(exits), new Promise((r) => setTimeout(r, 2_000))]);
      destroy([...created].reverse());
    },
  };

  try {
    await must(['ip', 'netns', 'add', sw]);
    created.push(sw);
    await must(['ip', '-n', sw, 'link', 'add', 'br0', 'type', 'bridge']);
    // No multicast snooping: a stand-in for a home switch, which floods mDNS to every port.
    await must(['ip', '-n', sw, 'link', 'set', 'br0', 'type', 'bridge', 'mcast_snooping', '0']);
    await must(['ip', '-n', sw, 'link', 'set', 'br0', 'up']);
    for (const [i, h] of hosts.entries()) {
      await must(['ip', 'netns', 'add', h.ns]);
      created.push(h.ns);
      if (opts.ipv6 === false)
        await must([...h.prefix, 'sysctl', '-qw', 'net.ipv6.conf.all.disable_ipv6=1']);
      const port = `p${i}`;
      await must([
        'ip',
        '-n',
        h.ns,
        'link',
        'add',
        h.ifname,
        'type',
        'veth',
        'peer',
        'name',
        port,
        'netns',
        sw,
      ]);
      await must(['ip', '-n', sw, 'link', 'set', port, 'master', 'br0', 'up']);
      await must(['ip', '-n', h.ns, 'link', 'set', 'lo', 'up']);
      await must(['ip', '-n', h.ns, 'addr', 'add', `${h.address}/24`, 'dev', h.ifname]);
      await must(['ip', '-n', h.ns, 'link', 'set', h.ifname, 'up']);
      await must(['ip', '-n', h.ns, 'route', 'add', '224.0.0.0/4', 'dev', h.ifname]);
    }
  } catch (err) {
    destroy([...created].reverse());
    throw err;
  }
  live.add(lab);
  return lab;
}

/** Runs argv without a shell; resolves with the exit code and output (rejects on spawn error or timeout). */
export function run(
  argv: string[],
  opts: { timeoutMs?: number; input?: string } = {},
): Promise<ExecResult> {
  return new Promise((resolve, reject) => {
    const [cmd, ...rest] = argv;
    const child = spawn(cmd!, rest, {
      stdio: [opts.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (d) => (stdout += d));
    child.stderr!.on('data', (d) => (stderr += d));
    if (opts.input !== undefined) child.stdin!.end(opts.input);
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${argv.join(' ')} timed out after ${opts.timeoutMs} ms`));
    }, opts.timeoutMs ?? 30_000);
    child.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

async function must(argv: string[]): Promise<void> {
  const r = await run(argv, { timeoutMs: 10_000 });
  if (r.code !== 0) throw new Error(`${argv.join(' ')} failed (${r.code}): ${r.stderr.trim()}`);
}

function namespacePids(ns: string): number[] {
  const out = spawnSync('ip', ['netns', 'pids', ns], { encoding: 'utf8' }).stdout ?? '';
  return out.split(/\s+/).filter(Boolean).map(Number);
}

/** Kills what still runs in the namespaces, then deletes them (synchronous: usable at exit). */
function destroy(namespaces: string[]): void {
  for (const ns of namespaces) {
    for (const pid of namespacePids(ns)) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        /* already gone */
      }
    }
    spawnSync('ip', ['netns', 'del', ns]);
  }
}

/** Deletes labs whose creating process is gone (a crashed or killed test run). */
function sweepStale(): void {
  const list = spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' }).stdout ?? '';
  const stale = list
    .split('\n')
    .map((l) => l.split(' ')[0] ?? '')
    .filter((ns) => {
      const m = new RegExp(`^${PREFIX}-(\\d+)-`).exec(ns);
      return m && !pidAlive(Number(m[1]));
    });
  if (stale.length) destroy(stale);
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

// A test that throws or a worker that exits early must not leave namespaces behind.
process.once('exit', () => {
  for (const lab of live) {
    destroy(
      lab.hosts
        .map((h) => h.ns)
        .concat(`${lab.id}-sw`)
        .reverse(),
    );
  }
});
