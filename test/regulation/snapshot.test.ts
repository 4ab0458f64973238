import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { loadCatalogueParts, RegulatoryCatalogue } from '../../src/regulation/catalogue.ts';
import { readCatalogueSnapshot, writeCatalogueSnapshot } from '../../src/regulation/snapshot.ts';

describe('the catalogue snapshot (what make build writes beside the compiled code)', () => {
  let dir: string;
  let file: URL;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'fai-snapshot-'));
    file = pathToFileURL(join(dir, 'catalogue.snapshot.json'));
    writeCatalogueSnapshot(loadCatalogueParts(), file);
  });
  after(() => rm(dir, { recursive: true, force: true }));

  it('reads back the same parts as parsing the CSV files, Sets included', () => {
    const fromCsv = loadCatalogueParts();
    const fromSnapshot = readCatalogueSnapshot(file);
    assert.ok(fromSnapshot !== null);
    assert.deepEqual(fromSnapshot, fromCsv);
    assert.ok(fromSnapshot.standards.every((standard) => standard.types instanceof Set && standard.types.size === standard.typeList.length));
  });

  it('a catalogue built from it resolves and checks like one built from the CSV files', () => {
    const fromSnapshot = new RegulatoryCatalogue(readCatalogueSnapshot(file)!);
    const fromCsv = new RegulatoryCatalogue(loadCatalogueParts());
    for (const text of ['5989-27-5', 'Citral', 'oakmoss extract', 'no such material']) {
      assert.deepEqual(fromSnapshot.resolve(text), fromCsv.resolve(text), text);
    }
    assert.equal(fromSnapshot.latestAmendment, fromCsv.latestAmendment);
  });

  it('is ignored once a source file no longer matches the content it was written from', async () => {
    const snapshot = JSON.parse(await readFile(file, 'utf8')) as { stamps: Record<string, string> };
    const [first] = Object.keys(snapshot.stamps);
    snapshot.stamps[first!] = '0'.repeat(40);
    await writeFile(file, JSON.stringify(snapshot));
    assert.equal(readCatalogueSnapshot(file), null);
  });

  it('is absent: null, and RegulatoryCatalogue.load parses the files', () => {
    assert.equal(readCatalogueSnapshot(pathToFileURL(join(dir, 'none.json'))), null);
    assert.ok(RegulatoryCatalogue.load().standards.length > 100);
  });
});
