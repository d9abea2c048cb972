/** Where the CLI writes and what it reads from its environment: a test runs main() with its own. */
export interface Io {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WriteStream;
  env: NodeJS.ProcessEnv;
  /** A remark for a human on stderr (never on stdout, which --json keeps for results). */
  note(line: string): void;
}

export const processIo = (): Io => ({
  stdout: process.stdout,
  stderr: process.stderr,
  env: process.env,
  note: (line) => process.stderr.write(`${line}\n`),
});
