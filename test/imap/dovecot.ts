import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { freePort, waitForPort } from '../helpers/process.js';
import { tempDir } from '../helpers/server.js';

const DOVECOT = '/usr/sbin/dovecot';

/** Whether Debian's dovecot-imapd is installed. */
export function dovecotInstalled(): boolean {
  return fs.existsSync(DOVECOT) && fs.existsSync('/usr/lib/dovecot/imap');
}

export interface Dovecot {
  port: number;
  stop(): Promise<void>;
}

/**
 * Start Dovecot in the foreground with a generated config: one IMAP listener on a free loopback
 * port, a passwd-file user with a plain password, a Maildir under a temporary directory.
 */
export async function startDovecot(user: string, password: string): Promise<Dovecot> {
  const dir = tempDir('mailroom-dovecot-');
  // Dovecot's auth and mail processes run as other users: they must reach the password file and home.
  fs.chmodSync(dir, 0o755);
  const home = path.join(dir, 'home');
  fs.mkdirSync(home, { recursive: true });
  // Mail is owned by nobody: Dovecot refuses to keep mail as root.
  fs.chownSync(home, 65534, 65534);
  fs.writeFileSync(path.join(dir, 'passwd'), `${user}:{PLAIN}${password}::::::\n`, { mode: 0o644 });
  const port = await freePort();
  fs.writeFileSync(
    path.join(dir, 'dovecot.conf'),
    `base_dir = ${dir}/run
state_dir = ${dir}/state
listen = 127.0.0.1
protocols = imap
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain
log_path = ${dir}/log
default_internal_user = dovecot
default_login_user = dovenull
first_valid_uid = 1
mail_location = maildir:~/Maildir
passdb {
  driver = passwd-file
  args = scheme=PLAIN username_format=%u ${dir}/passwd
}
userdb {
  driver = static
  args = uid=65534 gid=65534 home=${home}/%u
}
namespace inbox {
  inbox = yes
  separator = /
}
service imap-login {
  chroot =
  inet_listener imap {
    address = 127.0.0.1
    port = ${port}
  }
  inet_listener imaps {
    port = 0
  }
}
service anvil {
  chroot =
}
`,
  );
  const child: ChildProcess = spawn(DOVECOT, ['-F', '-c', path.join(dir, 'dovecot.conf')], { stdio: 'ignore' });
  await waitForPort(port);
  return {
    port,
    stop: async () => {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
