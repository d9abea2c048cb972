#!/usr/bin/env node
// Node 24 runs this TypeScript directly (type stripping): no build step, and no tsx in the CLI's memory.
import { processIo } from './io.ts';
import { main } from './main.ts';

process.once('SIGINT', () => {
  // Ctrl-C: the session state is already on disk (written before the first byte), so the next run resumes.
  process.stderr.write('\ninterrupted; run the same command again to resume\n');
  process.exit(130);
});
process.exitCode = await main(process.argv.slice(2), processIo());
