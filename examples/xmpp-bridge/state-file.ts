/**
 * The bridge's state file: the OTR account (Account.serialize(), which holds long-term and ephemeral secrets)
 * plus what the bridge knows about each peer's instances (session id, fingerprint, XMPP resource).
 *
 * Written atomically: a temporary file in the same folder, fsync, rename over the old one, fsync of the folder.
 * A crash (kill -9, power loss) leaves either the old state or the new one, never a torn file. The bridge writes
 * it BEFORE it transmits anything the call produced (docs/persistence.md): a restart can never reuse a message
 * key that went out. Mode 0600: the file is as secret as a private key.
 */
import { closeSync, fsyncSync, openSync, readFileSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';

export interface InstanceRecord {
  /** Hex SSID of the instance's current session, if one was established. */
  ssid?: string;
  fingerprint?: string;
  /** The full JID the instance last wrote from. */
  resource?: string;
  /** True while the session with this instance is encrypted (cleared when either side ends it). */
  encrypted: boolean;
}

export interface BridgeState {
  /** Account.serialize(), base64. */
  account: string;
  /** peer bare JID → instance tag (hex) → what we know. */
  peers: Record<string, Record<string, InstanceRecord>>;
}

const FORMAT = 'otr4-xmpp-bridge-state/1';

export function loadState(path: string): BridgeState | undefined {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
  const v = JSON.parse(text) as { format?: unknown; account?: unknown; peers?: unknown };
  if (v.format !== FORMAT || typeof v.account !== 'string' || typeof v.peers !== 'object' || v.peers === null)
    throw new Error(`${path} is not a bridge state file (${FORMAT})`);
  return { account: v.account, peers: v.peers as BridgeState['peers'] };
}

export function saveState(path: string, s: BridgeState): void {
  const tmp = `${path}.tmp-${process.pid}`;
  const fd = openSync(tmp, 'w', 0o600);
  try {
    writeSync(fd, JSON.stringify({ format: FORMAT, ...s }));
    fsyncSync(fd);
  } catch (e) {
    closeSync(fd);
    unlinkSync(tmp);
    throw e;
  }
  closeSync(fd);
  renameSync(tmp, path);
  // The rename is durable only once the folder's entry is on disk.
  const dir = openSync(dirname(path), 'r');
  try {
    fsyncSync(dir);
  } finally {
    closeSync(dir);
  }
}
