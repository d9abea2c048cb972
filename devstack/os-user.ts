import fs from 'node:fs';
import path from 'node:path';

/** Services that refuse to run as root (postgres) or drop privileges (clamd) run as their Debian users. */
export interface OsUser {
  uid: number;
  gid: number;
}

export function isRoot(): boolean {
  return typeof process.getuid === 'function' && process.getuid() === 0;
}

export function lookupOsUser(name: string): OsUser | undefined {
  const passwd = fs.readFileSync('/etc/passwd', 'utf8');
  for (const line of passwd.split('\n')) {
    const [user, , uid, gid] = line.split(':');
    if (user === name && uid !== undefined && gid !== undefined)
      return { uid: Number(uid), gid: Number(gid) };
  }
  return undefined;
}

/** Adds o+x to ancestors of `dir` the user cannot traverse (e.g. mkdtemp dirs, mode 0700). */
export function ensureTraversable(dir: string, user: OsUser): void {
  let current = path.dirname(dir);
  for (;;) {
    const st = fs.statSync(current);
    const canSearch =
      (st.uid === user.uid && st.mode & 0o100) || (st.gid === user.gid && st.mode & 0o010) || st.mode & 0o001;
    if (!canSearch) fs.chmodSync(current, (st.mode & 0o7777) | 0o001);
    const parent = path.dirname(current);
    if (parent === current) return;
    current = parent;
  }
}

export function chownRecursive(target: string, user: OsUser): void {
  const st = fs.lstatSync(target);
  if (st.uid !== user.uid || st.gid !== user.gid) fs.lchownSync(target, user.uid, user.gid);
  if (st.isDirectory()) {
    for (const entry of fs.readdirSync(target)) chownRecursive(path.join(target, entry), user);
  }
}
