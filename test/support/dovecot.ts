import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SMTPServer } from 'smtp-server';

const DOVECOT = '/usr/sbin/dovecot';

export interface TestDovecot {
  imapPort: number;
  pop3Port: number;
  submissionPort: number;
  /** What Dovecot logged (auth failures say why). */
  log(): Promise<string>;
  stop(): Promise<void>;
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

async function waitForPort(port: number, deadline: number): Promise<void> {
  for (;;) {
    const open = await new Promise<boolean>((resolve) => {
      const socket = createServer().listen(port, '127.0.0.1');
      socket.once('listening', () => socket.close(() => resolve(false)));
      socket.once('error', () => resolve(true));
    });
    if (open) return;
    if (Date.now() > deadline) throw new Error(`Dovecot did not listen on ${port} in time`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/**
 * A private Dovecot 2.3 (Debian's dovecot-core, -imapd, -pop3d, -submissiond) on free loopback
 * ports, as STACK-NOTES describes: XOAUTH2 and OAUTHBEARER only, every token introspected at the
 * test provider (RFC 7662), the SASL user compared with the token's `sub`; plain text (no TLS),
 * so links use `security: "none"` with ALLOW_INSECURE_ENDPOINTS. Submission relays to an SMTP
 * sink that accepts nothing is ever sent: the mail check only logs in. Needs root, as CI has.
 */
export async function startDovecot(options: {
  introspectionUrl: string;
  clientId: string;
  clientSecret: string;
}): Promise<TestDovecot> {
  if (!existsSync(DOVECOT))
    throw new Error(
      `${DOVECOT} is missing: apt-get install -y dovecot-core dovecot-imapd dovecot-pop3d dovecot-submissiond (.ci/run does)`,
    );
  const dir = await mkdtemp(join(tmpdir(), 'outlink-dovecot-'));
  await chmod(dir, 0o755);
  const mailDir = join(dir, 'mail');
  await mkdir(mailDir, { mode: 0o777 });
  await chmod(mailDir, 0o777);

  const sink = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
  });
  await new Promise<void>((resolve) => sink.listen(0, '127.0.0.1', resolve));
  const sinkPort = (sink.server.address() as AddressInfo).port;

  const [imapPort, pop3Port, submissionPort] = [
    await freePort(),
    await freePort(),
    await freePort(),
  ];
  const url = new URL(options.introspectionUrl);
  url.username = encodeURIComponent(options.clientId);
  url.password = encodeURIComponent(options.clientSecret);
  await writeFile(
    join(dir, 'oauth2.conf'),
    [
      `introspection_url = ${url.href}`,
      'introspection_mode = post',
      'force_introspection = yes',
      'username_attribute = sub',
      'active_attribute = active',
      'active_value = true',
      '',
    ].join('\n'),
    { mode: 0o600 },
  );
  const configPath = join(dir, 'dovecot.conf');
  await writeFile(
    configPath,
    `
base_dir = ${dir}/run
state_dir = ${dir}/state
log_path = ${dir}/dovecot.log
instance_name = outlink-test-${imapPort}
protocols = imap pop3 submission
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = xoauth2 oauthbearer
auth_failure_delay = 0
hostname = mail.outlink.test
mail_location = maildir:${mailDir}/%u
first_valid_uid = 1
submission_relay_host = 127.0.0.1
submission_relay_port = ${sinkPort}
submission_relay_trusted = yes
passdb {
  driver = oauth2
  args = ${dir}/oauth2.conf
}
userdb {
  driver = static
  args = uid=nobody gid=nogroup home=${mailDir}/%u
}
service anvil {
  unix_listener anvil-auth-penalty {
    mode = 0
  }
}
service imap-login {
  inet_listener imap {
    port = ${imapPort}
  }
  inet_listener imaps {
    port = 0
  }
}
service pop3-login {
  inet_listener pop3 {
    port = ${pop3Port}
  }
  inet_listener pop3s {
    port = 0
  }
}
service submission-login {
  inet_listener submission {
    port = ${submissionPort}
  }
}
`,
  );
  const child: ChildProcess = spawn(DOVECOT, ['-F', '-c', configPath], { stdio: 'ignore' });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const deadline = Date.now() + 15_000;
  try {
    for (const port of [imapPort, pop3Port, submissionPort]) await waitForPort(port, deadline);
  } catch (error) {
    child.kill('SIGKILL');
    const log = await readFile(join(dir, 'dovecot.log'), 'utf8').catch(() => '');
    throw new Error(`${(error as Error).message}\n${log}`);
  }
  return {
    imapPort,
    pop3Port,
    submissionPort,
    log: () => readFile(join(dir, 'dovecot.log'), 'utf8').catch(() => ''),
    async stop() {
      child.kill('SIGTERM');
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([exited, new Promise((resolve) => (timer = setTimeout(resolve, 5_000)))]);
      clearTimeout(timer);
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await new Promise<void>((resolve) => sink.close(() => resolve()));
      await rm(dir, { recursive: true, force: true });
    },
  };
}
