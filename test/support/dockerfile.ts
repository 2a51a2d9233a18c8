// The Dockerfile as instructions, per stage: what test/deploy reads to check its settings and to
// build the same tree without Docker (there is no container runtime in CI).

import { readFileSync } from 'node:fs';

export interface DockerInstruction {
  keyword: string;
  /** The rest of the line (continuations joined). */
  args: string;
}

export interface DockerStage {
  /** The stage's `AS` name; the last stage (the image) is named by its index when unnamed. */
  name: string;
  instructions: DockerInstruction[];
}

export function readDockerfile(path: string | URL): DockerStage[] {
  const lines = readFileSync(path, 'utf8')
    .replace(/\\\n/g, ' ')
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'));
  const stages: DockerStage[] = [];
  for (const line of lines) {
    const [, keyword, args] = /^(\w+)\s+(.*)$/.exec(line) ?? [];
    if (!keyword) throw new Error(`unreadable Dockerfile line: ${line}`);
    if (keyword.toUpperCase() === 'FROM') {
      stages.push({ name: /\bAS\s+(\S+)/i.exec(args!)?.[1] ?? String(stages.length), instructions: [] });
    }
    stages.at(-1)!.instructions.push({ keyword: keyword.toUpperCase(), args: args!.trim() });
  }
  return stages;
}

/** The stage's ENV settings (`ENV NAME=value`). */
export function envOf(stage: DockerStage): Record<string, string> {
  return Object.fromEntries(
    stage.instructions
      .filter((instruction) => instruction.keyword === 'ENV')
      .flatMap((instruction) => [...instruction.args.matchAll(/([A-Z_][A-Z0-9_]*)=("[^"]*"|\S+)/g)].map(([, name, value]) => [name!, value!.replace(/^"|"$/g, '')])),
  );
}

/** The JSON (exec) form of CMD, or of HEALTHCHECK's CMD. */
export function execForm(args: string): string[] {
  const json = args.slice(args.indexOf('['));
  return JSON.parse(json) as string[];
}

export function instruction(stage: DockerStage, keyword: string): DockerInstruction | undefined {
  return stage.instructions.findLast((item) => item.keyword === keyword);
}
