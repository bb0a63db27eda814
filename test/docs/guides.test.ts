/**
 * @file Every code block of the documentation guides (docs/guides/*.md) is compiled and run:
 * a guide's `ts` blocks, in order, form one program (later blocks use earlier ones' names), which
 * must type-check under the repository's strict settings and run to completion with exit code 0
 * (the blocks throw when what they show does not hold). A fenced block must be `ts` (code) or
 * `text` (a formula or output), so no code escapes the check.
 */
import { spawnSync } from "node:child_process";
import { mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";

const ROOT = resolve(import.meta.dirname, "../..");
const GUIDES = join(ROOT, "docs/guides");
const OUT = join(ROOT, "test/docs/.generated"); // git-ignored

/** The fenced blocks of a Markdown text: language and body. */
export function fencedBlocks(md: string): { lang: string; body: string; line: number }[] {
  const blocks: { lang: string; body: string; line: number }[] = [];
  const lines = md.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const open = /^```(\S*)\s*$/.exec(lines[i]!);
    if (!open) continue;
    const start = i;
    const body: string[] = [];
    for (i++; i < lines.length && !/^```\s*$/.test(lines[i]!); i++) body.push(lines[i]!);
    if (i >= lines.length) throw new Error(`unclosed code block at line ${start + 1}`);
    blocks.push({ lang: open[1]!, body: body.join("\n"), line: start + 1 });
  }
  return blocks;
}

const guides = readdirSync(GUIDES).filter((f) => f.endsWith(".md")).sort();
const programs = guides.map((file) => {
  const blocks = fencedBlocks(readFileSync(join(GUIDES, file), "utf8"));
  const code = blocks.filter((b) => b.lang === "ts" || b.lang === "typescript");
  return { file, blocks, code, source: code.map((b) => `// ${file}:${b.line}\n${b.body}`).join("\n\n") + "\nexport {};\n" };
});

describe.runIf(!process.env.TAPEGRAD_KERNELS)("documentation guides", () => {
  it("has the guides, and every fenced block is ts or text", () => {
    expect(guides).toEqual(expect.arrayContaining(["gradient-clipping.md", "how-the-tape-works.md", "embedding.md", "compression.md", "private-training.md"]));
    for (const p of programs) for (const b of p.blocks) expect(["ts", "typescript", "text"], `${p.file}:${b.line} has a \`${b.lang}\` block`).toContain(b.lang);
  });

  it("every guide's code type-checks (strict)", () => {
    rmSync(OUT, { recursive: true, force: true });
    mkdirSync(OUT, { recursive: true });
    for (const p of programs) if (p.code.length > 0) writeFileSync(join(OUT, p.file.replace(/\.md$/, ".ts")), p.source);
    writeFileSync(join(OUT, "tsconfig.json"), JSON.stringify({ extends: "../../../tsconfig.base.json", compilerOptions: { noEmit: true, types: ["node"], noUnusedLocals: false }, include: ["*.ts"] }));
    const tsc = spawnSync(process.execPath, [join(ROOT, "node_modules/typescript/bin/tsc"), "-p", join(OUT, "tsconfig.json")], { cwd: ROOT, encoding: "utf8", timeout: 180_000 });
    expect(tsc.stdout + tsc.stderr).toBe("");
    expect(tsc.status).toBe(0);
  }, 200_000);

  for (const p of programs.filter((q) => q.code.length > 0)) {
    it(`${p.file}: its code runs`, () => {
      const path = join(OUT, p.file.replace(/\.md$/, ".ts"));
      writeFileSync(path, p.source);
      const run = spawnSync(process.execPath, ["--conditions=source", "--import", "tsx", path], { cwd: ROOT, encoding: "utf8", timeout: 180_000 });
      expect(run.stderr).not.toMatch(/Error/);
      expect(run.status, run.stderr).toBe(0);
    }, 200_000);
  }
});
