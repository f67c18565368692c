// Prints the gzip size of the JS the console loads at start-up (each entry chunk and the chunks it
// imports statically, from Vite's manifest) and fails above the budget. Chunks loaded on demand
// through import() are listed for information only.
import { existsSync, readFileSync } from "node:fs";
import { gzipSync } from "node:zlib";

const BUDGET_KB = 250;
const dist = new URL("../dist/", import.meta.url);
const manifestUrl = new URL(".vite/manifest.json", dist);

if (!existsSync(manifestUrl)) {
  console.error("dist/.vite/manifest.json not found: run `npm run build` first.");
  process.exit(1);
}

const manifest = JSON.parse(readFileSync(manifestUrl, "utf8"));
const kb = (bytes) => (bytes / 1000).toFixed(1);
const gzipBytes = (file) => gzipSync(readFileSync(new URL(file, dist))).length;

const initial = new Set();
function visit(key) {
  if (initial.has(key)) return;
  initial.add(key);
  for (const imported of manifest[key].imports ?? []) visit(imported);
}
for (const [key, chunk] of Object.entries(manifest)) {
  if (chunk.isEntry) visit(key);
}

const js = (keys) => keys.map((key) => manifest[key].file).filter((file) => file.endsWith(".js"));
const initialFiles = js([...initial]);
const lazyFiles = js(Object.keys(manifest).filter((key) => !initial.has(key)));

let total = 0;
console.log("Initial JS (gzip):");
for (const file of initialFiles) {
  const bytes = gzipBytes(file);
  total += bytes;
  console.log(`  ${kb(bytes).padStart(8)} kB  ${file}`);
}
console.log(`  ${kb(total).padStart(8)} kB  total (budget ${BUDGET_KB} kB)`);
if (lazyFiles.length > 0) {
  console.log("Loaded on demand (gzip, not counted):");
  for (const file of lazyFiles) console.log(`  ${kb(gzipBytes(file)).padStart(8)} kB  ${file}`);
}

if (total > BUDGET_KB * 1000) {
  console.error(`Initial JS is ${kb(total)} kB gzip, over the ${BUDGET_KB} kB budget.`);
  process.exit(1);
}
