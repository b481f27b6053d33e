// Lays an asar archive out on disk the way Electron's patched fs shows it to the main process, so
// plain Node can run the packaged app (Node itself cannot read asar):
//
//   node scripts/packaged/mount.mjs RESOURCES_DIR
//
// RESOURCES_DIR/app.asar (the archive) is moved to RESOURCES_DIR/app.asar.archive and replaced by
// a directory: packed files are extracted into it; each file the archive marks unpacked appears
// there as a symlink into RESOURCES_DIR/app.asar.unpacked, which is what Electron's fs redirect
// does (run with --preserve-symlinks so module paths stay inside app.asar, as they do in Electron).
// Worker entries (`*-worker.js`) are left out of the archive view: they must be started from
// app.asar.unpacked, modelling a worker thread that cannot read the archive. Prints one JSON line:
// the archive's packed and unpacked file lists.
import { mkdirSync, renameSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { extractFile, listPackage, statFile } from '@electron/asar';

const resources = path.resolve(process.argv[2] ?? '');
const archive = path.join(resources, 'app.asar.archive');
renameSync(path.join(resources, 'app.asar'), archive);
const view = path.join(resources, 'app.asar');
const unpackedDir = path.join(resources, 'app.asar.unpacked');

const packed = [];
const unpacked = [];
for (const entry of listPackage(archive, { isPack: false })) {
  const rel = entry.replace(/^[\\/]/, '');
  const st = statFile(archive, rel, false);
  if ('files' in st) {
    mkdirSync(path.join(view, rel), { recursive: true });
    continue;
  }
  if ('link' in st) throw new Error(`${rel}: symlinks in the archive are not expected`);
  mkdirSync(path.dirname(path.join(view, rel)), { recursive: true });
  if (st.unpacked) {
    unpacked.push(rel);
    if (!/-worker\.js$/.test(rel)) symlinkSync(path.join(unpackedDir, rel), path.join(view, rel));
  } else {
    packed.push(rel);
    writeFileSync(path.join(view, rel), extractFile(archive, rel, false));
  }
}
console.log(JSON.stringify({ packed, unpacked }));
