import { loadCatalogueParts } from './catalogue.ts';
import { writeCatalogueSnapshot } from './snapshot.ts';

/**
 * `node dist/regulation/write-snapshot.js` (make build): parse the CSV files once and write the
 * catalogue's snapshot beside the compiled code. A module of its own, above both the loaders and the
 * snapshot, so neither imports the other.
 */
writeCatalogueSnapshot(loadCatalogueParts());
