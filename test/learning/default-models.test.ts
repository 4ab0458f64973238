import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { checkpointCids, SHIPPED_FILES, trainDefaultModels } from '../../src/learning/index.ts';
import { readPins } from '../../src/llm/index.ts';

const dirs: string[] = [];
after(async () => {
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});

describe('make train-default (trainDefaultModels)', () => {
  it('reproduces the same checkpoints, so the same CIDs, from the same seed; a different seed differs; --pin writes the pins', async () => {
    const run = async (seed: number, pinsFile?: string) => {
      const dir = await mkdtemp(join(tmpdir(), 'fai-default-'));
      dirs.push(dir);
      // A small teacher: this tests the plumbing (reproducible CIDs, the files, the pins), not the shipped model.
      return trainDefaultModels({ dir, episodes: 32, seed, distillBriefs: 16, hidden: 16, ...(pinsFile === undefined ? {} : { pinsFile }) });
    };
    const pinsDir = await mkdtemp(join(tmpdir(), 'fai-default-pins-'));
    dirs.push(pinsDir);
    const pinsFile = join(pinsDir, 'model_pins.json');
    await writeFile(pinsFile, '{"qwen": "2.5.1"}\n');
    const first = await run(11, pinsFile);
    const second = await run(11);
    assert.equal(first.teacher.cid, second.teacher.cid);
    assert.equal(first.student.cid, second.student.cid);
    assert.deepEqual(await readFile(first.teacher.file), await readFile(second.teacher.file));
    // The CID is the hub's: the written file stored anew gets it.
    assert.deepEqual(await checkpointCids([await readFile(first.student.file)]), [first.student.cid]);
    assert.ok(first.teacher.file.endsWith(SHIPPED_FILES['formulation-teacher']));
    const other = await run(12);
    assert.notEqual(other.teacher.cid, first.teacher.cid);
    const pins = await readPins(pinsFile);
    assert.deepEqual(pins, {
      qwen: '2.5.1',
      'formulation-policy': { version: '1.0.0', cid: first.teacher.cid },
      'formulation-teacher': { version: '1.0.0', cid: first.teacher.cid },
      'formulation-student': { version: '1.0.0', cid: first.student.cid },
    });
    // The summary states held-out figures with intervals beside training ones.
    const { evaluation } = first.summary;
    assert.ok(evaluation.heldOut.n >= 200 && evaluation.heldOut.ci95 > 0 && evaluation.training.n > 0);
  });
});
