// Command-line entry: `anonymiser serve | process | eval | models`.
import { Command, Option } from 'commander';
import { addDialectOptions, addEngineOptions, addModelFetchOptions, addModelMirrorOption, addServeOptions, engineConfigFrom, modelFetchConfigFrom, serveConfigFrom } from './config.ts';
import { createLogger } from './log.ts';
import { VERSION } from './version.ts';
import { cliParameters, defaultParams } from './http/celantur/params.ts';
import { DEFAULT_THRESHOLDS, OBJECT_CLASSES } from './types.ts';
import { AppError } from './errors.ts';
import { AccountError as UsageError } from './accounts/types.ts';

const program = new Command('anonymiser')
  .description('Self-hosted anonymisation of faces, licence plates, persons and vehicles in images and videos')
  .version(VERSION);

addDialectOptions(addServeOptions(addEngineOptions(program.command('serve').description('serve the REST API v1 (default port 8080)')))).action(async (opts) => {
  const config = serveConfigFrom(opts);
  const log = createLogger(config.logLevel);
  const { startServer } = await import('./server.ts');
  const server = await startServer(config, log);
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) {
      log.warn('second signal: exiting now; unfinished tasks run again at the next start');
      process.exit(1);
    }
    stopping = true;
    log.info({ signal }, 'shutting down: finishing running tasks');
    server.close().then(
      () => process.exit(0),
      (err) => {
        log.error({ err }, 'error during shutdown');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
});

// The batch mode takes the same options as POST /v1/file's query parameters.
const processCmd = addEngineOptions(
  program
    .command('process')
    .description('anonymise every image and video in <input-dir> (recursively) into <output-dir>, with the files the API writes')
    .argument('<input-dir>')
    .argument('<output-dir>'),
);
const engineOptionNames = new Set(processCmd.options.map((o) => o.long?.slice(2)));
// From the Celantur parameter table: the same names, descriptions and defaults as the API's query parameters.
const FILE_FLAGS = cliParameters(defaultParams(OBJECT_CLASSES, DEFAULT_THRESHOLDS)).filter((f) => !engineOptionNames.has(f.name));
for (const flag of FILE_FLAGS) processCmd.addOption(new Option(`--${flag.name} <value>`, flag.description));
processCmd
  .addOption(new Option('--no-progress', 'no progress bar'))
  .addOption(new Option('--overwrite', 'process files whose outputs already exist'))
  .action(async (inputDir: string, outputDir: string, opts: Record<string, unknown>) => {
    const { runBatch } = await import('./batch.ts');
    const query: Record<string, string> = {};
    for (const { name } of FILE_FLAGS) {
      const prop = name.replace(/-(.)/g, (_, c: string) => c.toUpperCase());
      if (opts[prop] !== undefined) query[name] = String(opts[prop]);
    }
    const code = await runBatch({ inputDir, outputDir, engine: engineConfigFrom(opts), query, progress: opts.progress !== false, overwrite: Boolean(opts.overwrite) });
    process.exitCode = code;
  });

addModelMirrorOption(
  addEngineOptions(
    program
      .command('eval')
      .description('measure detection quality on an annotated dataset (annotations.json as in ../shared/eval)')
      .requiredOption('--dataset <dir>', 'folder with annotations.json and the images')
      .option('--limit <n>', 'only the first n images', (v) => Number.parseInt(v, 10))
      .option('--json <file>', 'also write the full report as JSON')
      .addOption(
        new Option('--packs <mode>', 'installed: models as serve would use them; with: the default model packs (from --packs-dir, or fetched from --model-mirror into a temporary folder); without: bundled models only; both: a table each')
          .choices(['installed', 'with', 'without', 'both'])
          .default('installed'),
      ),
  ),
).action(async (opts: Record<string, unknown>) => {
  const { runPackEvaluations, formatEvalTable } = await import('./eval/index.ts');
  const engine = engineConfigFrom(opts);
  const reports = await runPackEvaluations({
    dataset: String(opts.dataset),
    classes: engine.classes,
    provider: engine.provider,
    modelsDir: engine.modelsDir,
    packsDir: engine.packsDir,
    faceDetector: engine.faceDetector,
    faceSearch: engine.faceSearch,
    limit: opts.limit as number | undefined,
    packs: opts.packs as 'installed' | 'with' | 'without' | 'both',
    mirror: modelFetchConfigFrom(opts).mirror,
    log: (message: string) => process.stderr.write(`${message}\n`),
  });
  const many = reports.length > 1;
  process.stdout.write(`${reports.map((r) => `${many ? `== ${r.label}\n` : ''}${formatEvalTable(r.report)}`).join('\n\n')}\n`);
  if (opts.json) {
    const { writeFile } = await import('node:fs/promises');
    await writeFile(String(opts.json), JSON.stringify(many ? reports : reports[0]!.report, null, 2));
  }
});

const models = program.command('models').description('model packs: weights downloaded instead of shipped (models/packs.json)');
addModelFetchOptions(
  models
    .command('fetch')
    .description('download, verify (size, sha256) and install model packs; default: the packs marked default')
    .argument('[pack...]'),
).action(async (names: string[], opts: Record<string, unknown>) => {
  const { fetchPacks } = await import('./detect/pack-fetch.ts');
  const config = modelFetchConfigFrom(opts);
  await fetchPacks({ names, packsDir: config.packsDir, mirror: config.mirror, log: (m) => process.stderr.write(`${m}\n`) });
});
addModelFetchOptions(models.command('list').description('the packs of the manifest and whether they are installed, then the detector plugins (classes, files, licences)')).action(async (opts: Record<string, unknown>) => {
  const { modelPacks, packInstalled, upstreamUrl } = await import('./detect/packs.ts');
  const { describePlugins, formatPlugins } = await import('./detect/listing.ts');
  const { SessionFactory } = await import('./detect/session.ts');
  const { packsDir } = modelFetchConfigFrom(opts);
  for (const p of modelPacks()) {
    process.stdout.write(`${p.name}${p.default ? ' (default)' : ''}: ${packInstalled(p, packsDir) ? 'installed' : 'not installed'} in ${packsDir}; ${p.description}\n`);
    for (const f of p.files) process.stdout.write(`  ${f.file} ${f.bytes} bytes sha256 ${f.sha256} ${f.licence} ${upstreamUrl(f)}\n`);
  }
  const factory = new SessionFactory({ provider: 'cpu', packsDir });
  process.stdout.write(`\n${formatPlugins(describePlugins(factory))}\n`);
});

// Foreground masks of background replacement (issue 13).
addEngineOptions(
  program
    .command('eval-masks')
    .description('measure the foreground masks of background replacement (mean IoU, boundary F at 3 px) on a dataset laid out as ../shared/eval-masks')
    .requiredOption('--dataset <dir>', 'folder with annotations.json, images/ and masks/')
    .option('--limit <n>', 'only the first n images', (v) => Number.parseInt(v, 10))
    .option('--json <file>', 'also write the full report as JSON'),
).action(async (opts: Record<string, unknown>) => {
  const { runMaskEvaluation, formatMaskTable } = await import('./eval/masks.ts');
  const engine = engineConfigFrom(opts);
  const report = await runMaskEvaluation({
    dataset: String(opts.dataset),
    provider: engine.provider,
    modelsDir: engine.modelsDir,
    threads: engine.threads || undefined,
    limit: opts.limit as number | undefined,
    log: (message: string) => process.stderr.write(`${message}\n`),
  });
  process.stdout.write(`${formatMaskTable(report)}\n`);
  if (opts.json) {
    const { writeFile } = await import('node:fs/promises');
    await writeFile(String(opts.json), JSON.stringify(report, null, 2));
  }
});

// Accounts and tokens (issue 13), on serve's database.
const { addAccountCommands } = await import('./accounts/cli.ts');
addAccountCommands(program);

try {
  await program.parseAsync(process.argv);
} catch (err) {
  // Wrong values and unusable inputs are the user's to fix: one line, no stack trace.
  if (err instanceof AppError || err instanceof UsageError || (err instanceof Error && err.name === 'AccountError')) {
    process.stderr.write(`error: ${err.message}\n`);
    process.exit(2);
  }
  throw err;
}
