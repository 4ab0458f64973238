import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { FaiError } from '../../src/errors/index.ts';
import { BlockStore, CloudHub, EmbeddedMetadataStore } from '../../src/hub/index.ts';

/**
 * A full disk and a read-only disk, for real: small tmpfs mounts (root is needed to mount, as in
 * CI and on these machines; the suite says so plainly otherwise).
 */
let base: string;
const mounts: string[] = [];

function mountTmpfs(options: string): string {
  if (process.getuid?.() !== 0) throw new Error('these tests mount tmpfs file systems and must run as root (as `make test` does in CI)');
  const dir = join(base, `mnt-${mounts.length}`);
  execFileSync('mkdir', ['-p', dir]);
  execFileSync('mount', ['-t', 'tmpfs', '-o', options, 'tmpfs', dir]);
  mounts.push(dir);
  return dir;
}

before(async () => {
  base = await mkdtemp(join(tmpdir(), 'fai-hub-disk-'));
});
after(async () => {
  for (const dir of mounts) execFileSync('umount', [dir]);
  await rm(base, { recursive: true, force: true });
});

const hubIn = (dir: string) => new CloudHub({ blocks: new BlockStore(join(dir, 'blocks')), metadata: new EmbeddedMetadataStore(join(dir, 'meta')) });

describe('Cloud Hub on a failing disk', () => {
  it('says the disk is full, with FAI_ERR_STORAGE, and keeps what was stored before', async () => {
    const dir = mountTmpfs('size=2m');
    const hub = hubIn(dir);
    const small = await hub.storeJson('recipe', { name: 'fits' });
    await assert.rejects(hub.storeBytes(new Uint8Array(3 * 1024 * 1024).map((_, i) => i % 251)), (e: unknown) => e instanceof FaiError && e.code === 'FAI_ERR_STORAGE' && /disk is full/.test(e.message));
    assert.deepEqual((await hub.retrieve(small.cid)).value, { name: 'fits' });
    await hub.close();
  });

  it('says the directory is not writable on a read-only disk', async () => {
    const dir = mountTmpfs('ro,size=1m');
    const hub = hubIn(dir);
    await assert.rejects(hub.storeJson('recipe', { name: 'nowhere to go' }), (e: unknown) => e instanceof FaiError && e.code === 'FAI_ERR_STORAGE' && /not writable|read-only|EROFS/.test(e.message));
    await hub.close();
  });
});
