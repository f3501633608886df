// Prints, as JSON, the file names the page's worker needs before its wasm module is running:
// {"index": "models.json", "card": "card.json"}, from that module's own exports (the Rust
// crate is their one source). build-web.sh writes them into www/pkg/modules.json.
//   node scripts/module-names.mjs www/pkg/vae_web-<key>.js
import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

const glue = path.resolve(process.argv[2]);
const module = await import(pathToFileURL(glue).href);
module.initSync({ module: fs.readFileSync(glue.replace(/\.js$/, '_bg.wasm')) });
console.log(JSON.stringify({ index: module.indexFileName(), card: module.cardFileName() }));
