// Builds the packaged app's resources directory the way electron-builder.yml describes it, without
// electron-builder or the Electron binary (neither can be fetched here):
//
//   node scripts/app-layout.mjs --out DIR [--sqlite-addon FILE] [--platform linux|mac|win]
//
// DIR/resources/app.asar           the archive (@electron/asar), everything `files` selects
// DIR/resources/app.asar.unpacked  what `asarUnpack` selects: worker entries and native addons
//
// App files are chosen by `files` (plus the platform section's `files`), node_modules are the
// production dependencies of package-lock.json filtered by the same negative patterns and by a
// subset of electron-builder's default exclusions. `--sqlite-addon` stands in for `npmRebuild`:
// the better-sqlite3 addon built for the target runtime replaces the checkout's own build.
// Prints one JSON line with the sizes. Needs `npm run build` first; @electron/asar needs Node 22+.
import { copyFileSync, createReadStream, existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { parse } from 'yaml';

const root = path.resolve(import.meta.dirname, '..');

// electron-builder drops these from every package by default (the parts that matter for size).
const DEFAULT_EXCLUDES = [
  '**/node_modules/*/{CHANGELOG.md,README.md,README,readme.md,readme,HISTORY.md,History.md}',
  '**/node_modules/*/{test,__tests__,tests,powered-test,example,examples}/**',
  '**/node_modules/**/*.d.ts',
  '**/node_modules/.bin/**',
  '**/*.{iml,o,hprof,orig,pyc,pyo,rbc,swp,csproj,sln,xproj}',
  '**/{.DS_Store,.git,.hg,.svn,CVS,RCS,SCCS,.gitignore,.gitattributes,.npmignore,.editorconfig}',
  '**/{__pycache__,thumbs.db,.flowconfig,.idea,.vs,.nyc_output}/**',
  '**/{appveyor.yml,.travis.yml,circle.yml,npm-debug.log,yarn.lock,.yarn-integrity,.yarn-metadata.json}',
];

const PLATFORM_KEY = { linux: 'linux', darwin: 'mac', win32: 'win', mac: 'mac', win: 'win' };

function walk(dir, rel, out, skipNested) {
  for (const ent of readdirSync(dir, { withFileTypes: true })) {
    const abs = path.join(dir, ent.name);
    const r = rel ? `${rel}/${ent.name}` : ent.name;
    if (ent.isDirectory()) {
      if (skipNested && ent.name === 'node_modules') continue;
      walk(abs, r, out, skipNested);
    } else if (ent.isFile()) out.push(r);
    else if (ent.isSymbolicLink()) throw new Error(`${abs} is a symbolic link; the layout builder copies plain files only`);
  }
  return out;
}

const matchesAny = (file, patterns) => patterns.some((p) => path.matchesGlob(file, p));

export function buildLayout({ out, sqliteAddon, platform = process.platform }) {
  const config = parse(readFileSync(path.join(root, 'electron-builder.yml'), 'utf8'));
  const platformFiles = config[PLATFORM_KEY[platform]]?.files ?? [];
  const patterns = [...config.files, ...platformFiles];
  const include = patterns.filter((p) => !p.startsWith('!'));
  const exclude = [...patterns.filter((p) => p.startsWith('!')).map((p) => p.slice(1)), ...DEFAULT_EXCLUDES];
  const unpack = config.asarUnpack ?? [];

  const mainRel = config.extraMetadata?.main ?? JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')).main;
  if (!existsSync(path.join(root, mainRel))) throw new Error(`${mainRel} is missing: run "npm run build" first`);

  // App files: only the top-level entries a positive pattern can reach are walked.
  const tops = [...new Set(include.map((p) => p.split('/')[0]))];
  const appFiles = [];
  for (const top of tops) {
    const abs = path.join(root, top);
    if (!existsSync(abs)) continue;
    if (statSync(abs).isDirectory()) walk(abs, top, appFiles, false);
    else appFiles.push(top);
  }
  const selected = appFiles.filter((f) => f !== 'package.json' && matchesAny(f, include) && !matchesAny(f, exclude));

  // Production dependencies as the lockfile records them (dev-only packages are marked dev).
  const lock = JSON.parse(readFileSync(path.join(root, 'package-lock.json'), 'utf8'));
  for (const [key, entry] of Object.entries(lock.packages)) {
    if (!key.startsWith('node_modules/') || entry.dev || entry.link) continue;
    const abs = path.join(root, key);
    if (!existsSync(abs)) continue; // an optional dependency for another platform
    for (const f of walk(abs, key, [], true)) if (!matchesAny(f, exclude)) selected.push(f);
  }

  const resources = path.join(out, 'resources');
  const stage = path.join(out, 'stage');
  rmSync(out, { recursive: true, force: true });
  mkdirSync(resources, { recursive: true });
  for (const f of selected) {
    mkdirSync(path.join(stage, path.dirname(f)), { recursive: true });
    copyFileSync(path.join(root, f), path.join(stage, f));
  }
  const pkg = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8'));
  delete pkg.devDependencies;
  delete pkg.scripts;
  writeFileSync(path.join(stage, 'package.json'), JSON.stringify({ ...pkg, ...config.extraMetadata }, null, 2));
  selected.push('package.json');

  if (sqliteAddon) {
    const dest = path.join(stage, 'node_modules/better-sqlite3/build/Release/better_sqlite3.node');
    if (!existsSync(dest)) throw new Error(`the layout has no ${dest}; is better-sqlite3 a dependency?`);
    copyFileSync(sqliteAddon, dest);
  }
  return { config, stage, resources, files: selected.sort(), unpack };
}

export async function packLayout({ stage, resources, files, unpack }) {
  const { createPackageFromStreams } = await import('@electron/asar');
  const dirs = new Set();
  for (const f of files) for (let d = path.posix.dirname(f); d !== '.'; d = path.posix.dirname(d)) dirs.add(d);
  const streams = [...dirs].sort().map((d) => ({ type: 'directory', path: d, unpacked: false }));
  let unpackedFiles = 0;
  for (const f of files) {
    const abs = path.join(stage, f);
    const unpacked = matchesAny(f, unpack);
    if (unpacked) unpackedFiles += 1;
    streams.push({ type: 'file', path: f, unpacked, stat: lstatSync(abs), streamGenerator: () => createReadStream(abs) });
  }
  const archive = path.join(resources, 'app.asar');
  await createPackageFromStreams(archive, streams);
  rmSync(stage, { recursive: true, force: true });
  const unpackedDir = `${archive}.unpacked`;
  const unpackedBytes = existsSync(unpackedDir) ? walk(unpackedDir, '', [], false).reduce((n, f) => n + statSync(path.join(unpackedDir, f)).size, 0) : 0;
  return { archive, archiveBytes: statSync(archive).size, files: files.length, unpackedFiles, unpackedBytes };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { values } = parseArgs({ options: { out: { type: 'string' }, 'sqlite-addon': { type: 'string' }, platform: { type: 'string' } } });
  if (!values.out) {
    console.error('usage: node scripts/app-layout.mjs --out DIR [--sqlite-addon FILE] [--platform linux|mac|win]');
    process.exit(2);
  }
  const layout = buildLayout({ out: path.resolve(values.out), sqliteAddon: values['sqlite-addon'], platform: values.platform });
  const report = await packLayout(layout);
  console.log(JSON.stringify(report));
}
