import { execFile } from 'node:child_process';
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { promisify } from 'node:util';

/** Where a `postgres://` URL leads: a unix socket file, or a TCP address. */
export type PostgresEndpoint = { path: string } | { host: string; port: number };

/**
 * The endpoint `pg` connects to for a URL: a host starting with `/` (in the authority or as
 * `?host=`) is a socket directory holding `.s.PGSQL.<port>`, as with libpq.
 */
export function endpointOf(url: string): PostgresEndpoint {
  const parsed = new URL(url);
  const host = parsed.searchParams.get('host') ?? decodeURIComponent(parsed.hostname);
  const port = Number(parsed.port || 5432);
  return host.startsWith('/') ? { path: `${host}/.s.PGSQL.${port}` } : { host, port };
}

/** What answered a PostgreSQL startup packet. */
export interface ProbeResult {
  /** `postgres`: the peer answered as a PostgreSQL server (authentication request or error). */
  outcome: 'postgres' | 'other' | 'silent' | 'closed' | 'refused';
  /** The errno code when the connection failed, e.g. `EACCES` or `ECONNREFUSED`. */
  code?: string;
}

// Plain JavaScript run by `node -e`, so that the same probe runs as root or as another OS user.
// It sends a protocol 3.0 StartupMessage for user postgres and reads the first byte of the answer:
// 'R' (authentication request) or 'E' (error) is a PostgreSQL server speaking.
const PROBE_SCRIPT = `
const net = require('node:net');
const endpoint = JSON.parse(process.argv[1]);
const params = Buffer.from('user\\0postgres\\0database\\0postgres\\0\\0');
const packet = Buffer.alloc(8 + params.length);
packet.writeInt32BE(packet.length, 0);
packet.writeInt32BE(196608, 4);
params.copy(packet, 8);
const socket = net.connect(endpoint);
const finish = (result) => { process.stdout.write(JSON.stringify(result)); process.exit(0); };
socket.setTimeout(3000, () => finish({ outcome: 'silent' }));
socket.on('connect', () => socket.write(packet));
socket.on('data', (data) => finish({ outcome: data[0] === 0x52 || data[0] === 0x45 ? 'postgres' : 'other' }));
socket.on('error', (error) => finish({ outcome: 'refused', code: error.code }));
socket.on('close', () => finish({ outcome: 'closed' }));
`;

/**
 * Sends a PostgreSQL startup packet to the endpoint from a child process, as `asUser` when given
 * (through `runuser`, which needs root). Throws when the child cannot run as that user, so that a
 * test relying on it fails instead of passing vacuously.
 */
export async function probePostgres(
  endpoint: PostgresEndpoint,
  asUser?: string,
): Promise<ProbeResult> {
  const node = [process.execPath, '-e', PROBE_SCRIPT, JSON.stringify(endpoint)];
  const [command, ...args] = asUser ? ['runuser', '-u', asUser, '--', ...node] : node;
  const { stdout } = await promisify(execFile)(command, args, { cwd: '/', timeout: 10_000 });
  return JSON.parse(stdout) as ProbeResult;
}

/** The uid a command runs as under `runuser -u user`; throws when the switch is impossible. */
export async function uidOf(user: string): Promise<number> {
  const { stdout } = await promisify(execFile)('runuser', ['-u', user, '--', 'id', '-u'], {
    cwd: '/',
  });
  return Number(stdout.trim());
}

/** Reads a file as another OS user; resolves with the error text, or undefined when it worked. */
export async function readErrorAsUser(user: string, path: string): Promise<string | undefined> {
  try {
    await promisify(execFile)('runuser', ['-u', user, '--', 'cat', path], { cwd: '/' });
    return undefined;
  } catch (error) {
    return String((error as { stderr?: string }).stderr ?? error);
  }
}

/** The socket inodes this process holds open (worker threads included: they share its fds). */
function ownSocketInodes(): Set<string> {
  const inodes = new Set<string>();
  for (const fd of readdirSync('/proc/self/fd')) {
    let target: string;
    try {
      target = readlinkSync(`/proc/self/fd/${fd}`);
    } catch {
      continue; // closed between readdir and readlink
    }
    const match = /^socket:\[(\d+)\]$/.exec(target);
    if (match) inodes.add(match[1]);
  }
  return inodes;
}

/** `0100007F:1F90` (as /proc/net/tcp writes it) to an address a client can connect to. */
function connectableAddress(hexAddress: string, family: 4 | 6): { host: string; port: number } {
  const [hexHost, hexPort] = hexAddress.split(':');
  const port = Number.parseInt(hexPort, 16);
  // The kernel prints the address as 32-bit words in host (little-endian) byte order.
  const words = hexHost.match(/.{8}/g) ?? [];
  const bytes = words.flatMap((word) => (word.match(/../g) ?? []).reverse());
  const octets = bytes.map((byte) => Number.parseInt(byte, 16));
  if (octets.every((octet) => octet === 0))
    return { host: family === 4 ? '127.0.0.1' : '::1', port };
  if (family === 4) return { host: octets.join('.'), port };
  const groups = [];
  for (let i = 0; i < 16; i += 2) groups.push(((octets[i] << 8) | octets[i + 1]).toString(16));
  return { host: groups.join(':'), port };
}

/** The TCP sockets this process listens on, read from /proc (IPv4 and IPv6). */
export function ownTcpListeners(): Array<{ host: string; port: number }> {
  const inodes = ownSocketInodes();
  const listeners: Array<{ host: string; port: number }> = [];
  for (const [file, family] of [
    ['/proc/net/tcp', 4],
    ['/proc/net/tcp6', 6],
  ] as const) {
    const rows = readFileSync(file, 'utf8').trim().split('\n').slice(1);
    for (const row of rows) {
      const fields = row.trim().split(/\s+/);
      const [localAddress, state, inode] = [fields[1], fields[3], fields[9]];
      if (state === '0A' && inodes.has(inode))
        listeners.push(connectableAddress(localAddress, family));
    }
  }
  return listeners;
}
