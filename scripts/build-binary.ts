/**
 * `npm run build`: the single binary dist/trainyard (a Node single executable application).
 *
 * esbuild bundles src/main.ts into one CommonJS script; Node turns it, with every package file the appliance reads at
 * run time as an asset (see src/lib/package-files.ts), into a blob; postject injects the blob into a copy of the Node
 * binary running this script. The injection is skipped when the binary already there was made from the same bundle,
 * assets and Node. Linux only (the addon is the build machine's; the binary runs where this Node runs).
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, closeSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, readSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build, type Message } from 'esbuild';
import { SQLITE_ADDON } from '../src/db/connection.ts';
import { migrationFiles } from '../src/db/migrate.ts';
import { addonAssetKey } from '../src/lib/package-files.ts';
import { STATIC_FILES } from '../src/server/assets.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const DIST = join(ROOT, 'dist');
const BINARY = join(DIST, 'trainyard');
/** The hash of what the binary was made from, to skip making it again. */
const INPUTS = join(DIST, 'trainyard.inputs');
const SEA_FUSE = 'NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2';

/**
 * Files that read import.meta.url only on a path the binary never takes (it is empty in a CommonJS bundle): in any
 * other file it would be a file read relative to the source tree, which the binary does not have.
 */
const IMPORT_META_ALLOWED = ['src/lib/package-files.ts', 'src/runtime/docker-client.ts'];

function fail(message: string): never {
  process.stderr.write(`build-binary: ${message}\n`);
  process.exit(1);
}

/** The Node binary that gets copied: it must be the ELF itself, not a launcher script. */
function nodeBinary(): string {
  const fd = openSync(process.execPath, 'r');
  const magic = Buffer.alloc(4);
  readSync(fd, magic, 0, 4, 0);
  closeSync(fd);
  if (!magic.equals(Buffer.from([0x7f, 0x45, 0x4c, 0x46]))) fail(`${process.execPath} is not an ELF executable: run this with the project's Node (npm run build)`);
  return process.execPath;
}

/** The compiled addon better-sqlite3 itself loads here: one compiled on purpose, else its prebuilt one. */
function sqliteAddon(): string {
  const packageDir = join(ROOT, 'node_modules/better-sqlite3');
  const compiled = join(packageDir, 'build/Release/better_sqlite3.node');
  if (existsSync(compiled)) return compiled;
  const binding = createRequire(import.meta.url)(join(packageDir, 'lib/binding.js')) as { getPrebuildPath(): string | null };
  return binding.getPrebuildPath() ?? fail(`better-sqlite3 has no addon for ${process.platform}-${process.arch}`);
}

async function bundle(): Promise<Buffer> {
  const result = await build({
    entryPoints: [join(ROOT, 'src/main.ts')],
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node24',
    write: false,
    outfile: 'trainyard.cjs',
    minifyWhitespace: true,
    minifySyntax: true,
    legalComments: 'none',
    // Optional native speed-ups of ssh2 (under dockerode), which it does without when they do not load.
    external: ['cpu-features', '*.node'],
    // No module of the bundle is the process's main module: src/cli/yard.ts must not run itself.
    define: { 'import.meta.main': 'false' },
    logLevel: 'silent',
  });
  const where = (message: Message) => (message.location ? relative(ROOT, join(ROOT, message.location.file)) : '');
  const unexpected = result.warnings.filter((warning) => !(warning.id === 'empty-import-meta' && IMPORT_META_ALLOWED.includes(where(warning))));
  if (unexpected.length > 0) fail(`esbuild warned:\n${unexpected.map((warning) => `  ${where(warning)}: ${warning.text}`).join('\n')}`);
  return Buffer.from(result.outputFiles[0]!.contents);
}

/** Asset key -> file: the package files the appliance reads, and the SQLite addon. */
function assets(): Record<string, string> {
  const files = [...migrationFiles(), ...STATIC_FILES];
  const addon = sqliteAddon();
  return { ...Object.fromEntries(files.map((file) => [file, join(ROOT, file)])), [addonAssetKey(SQLITE_ADDON, readFileSync(addon))]: addon };
}

/** What the binary is made of: the bundle, the assets, the Node binary, and how they are put together (this file). */
function inputsHash(script: Buffer, assetFiles: Record<string, string>, node: string): string {
  const hash = createHash('sha256').update(readFileSync(fileURLToPath(import.meta.url))).update(script);
  for (const [key, path] of Object.entries(assetFiles)) hash.update(`\0${key}\0`).update(readFileSync(path));
  const { size, mtimeMs } = statSync(node);
  return hash.update(`\0${node}\0${size}\0${mtimeMs}\0${process.version}`).digest('hex');
}

function run(command: string, args: string[]): void {
  const result = spawnSync(command, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8' });
  if (result.status !== 0) fail(`${[command, ...args].join(' ')} failed (${result.status ?? result.signal}):\n${result.stderr}${result.stdout}`);
}

async function buildBinary(): Promise<void> {
  const startedAt = performance.now();
  const node = nodeBinary();
  const script = await bundle();
  const assetFiles = assets();
  const hash = inputsHash(script, assetFiles, node);
  if (existsSync(BINARY) && existsSync(INPUTS) && readFileSync(INPUTS, 'utf8') === hash) {
    console.log(`build-binary: ${relative(ROOT, BINARY)} is up to date`);
    return;
  }

  // Everything is made in a directory of its own and the binary renamed into place: builds running at the same time
  // (two test files, a bench) do not mix their files, and nothing running the binary ever sees half of one.
  mkdirSync(DIST, { recursive: true });
  const work = mkdtempSync(join(DIST, '.build-'));
  const [bundleFile, blob, seaConfig, partial] = ['trainyard.cjs', 'trainyard.blob', 'sea-config.json', 'trainyard'].map((name) => join(work, name)) as [string, string, string, string];
  try {
    writeFileSync(bundleFile, script);
    const config = {
      main: bundleFile,
      output: blob,
      disableExperimentalSEAWarning: true,
      // V8's code cache of the bundle: the first answer comes ~100 ms sooner.
      useCodeCache: true,
      // V8 grows the young generation up to 64 MB a semi-space under load and keeps it: after logging 10,000 runs
      // over the MLflow API the binary held ~300 MB. At 8 MB the same work leaves ~200 MB (and V8's memory reducer
      // brings both back to ~135 MB once idle) for the same CPU time, ingest rate and search latency (measured).
      execArgv: ['--max-semi-space-size=8'],
      assets: assetFiles,
    };
    writeFileSync(seaConfig, JSON.stringify(config));
    run(node, ['--experimental-sea-config', seaConfig]);
    copyFileSync(node, partial);
    // Node's symbol and debug sections are 18 MB that nothing reads at run time (addons link against its dynamic
    // symbols, which stay); without them postject also works in a third of the time. Where binutils is not installed
    // the binary simply keeps them.
    if (spawnSync('strip', ['--version'], { stdio: 'ignore' }).status === 0) run('strip', [partial]);
    run(node, [join(ROOT, 'node_modules/postject/dist/cli.js'), partial, 'NODE_SEA_BLOB', blob, '--sentinel-fuse', SEA_FUSE]);
    chmodSync(partial, 0o755);
    rmSync(INPUTS, { force: true });
    renameSync(partial, BINARY);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  writeFileSync(INPUTS, hash);
  const megabytes = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MB`;
  const seconds = ((performance.now() - startedAt) / 1000).toFixed(1);
  console.log(`build-binary: ${relative(ROOT, BINARY)} (${megabytes(statSync(BINARY).size)}, bundle ${megabytes(script.length)}, ${Object.keys(assetFiles).length} assets) in ${seconds} s`);
}

await buildBinary();
