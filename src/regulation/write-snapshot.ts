import { loadCatalogueParts } from './catalogue.ts';
import { loadNaturals } from './naturals-load.ts';
import { writeCatalogueSnapshot, writeNaturalsSnapshot } from './snapshot.ts';

/**
 * `node dist/regulation/write-snapshot.js` (make build): parse the CSV files once and write the
 * catalogue's and the naturals' snapshots beside the compiled code. A module of its own, above both the loaders and the
 * snapshot, so neither imports the other.
 */
writeCatalogueSnapshot(loadCatalogueParts());
writeNaturalsSnapshot(loadNaturals());
