/**
 * @file Packages a stranger can install (issue 18): builds every package, packs it with
 * `pnpm pack` (which runs its `prepack` and applies its `publishConfig`), installs the tarballs
 * with npm into a temporary project outside the workspace, compiles a strict TypeScript trainer
 * with `lib: ["ES2022"]`, `types: ["node"]` and `skipLibCheck: false` (so every declaration file
 * the packages ship is checked without lib DOM), runs it with node and checks what it printed.
 *
 * Slow (build + pack + npm install, about a minute) and independent of the kernel set, so it runs
 * in the first vitest pass of `pnpm test` only (the later passes set `TAPEGRAD_KERNELS`). Needs
 * the npm registry for `typescript` and `@types/node`.
 */
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const PACKAGES = ["tensor", "autograd", "optim", "nn", "io", "compress", "privacy"];
const TIMEOUT = 240_000;

/** The environment for child processes, without what `pnpm run` adds for its own scripts. */
function childEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (/^(npm_(package|lifecycle)_|npm_config_user_agent$|pnpm_|PNPM_)/i.test(k)) continue;
    env[k] = v;
  }
  return env;
}

/** Runs a command; returns its stdout, or throws with everything it printed. */
function run(cmd: string, args: string[], cwd: string, ok = true): { status: number | null; out: string } {
  const r = spawnSync(cmd, args, { cwd, env: childEnv(), encoding: "utf8", maxBuffer: 64 << 20 });
  if (r.error) throw r.error;
  const out = `${r.stdout}${r.stderr}`;
  if (ok && r.status !== 0) throw new Error(`${cmd} ${args.join(" ")} (in ${cwd}) exited with ${r.status}:\n${out}`);
  return { status: r.status, out: r.stdout };
}

const TRAINER = `import { readFileSync, writeFileSync } from "node:fs";
import { Rng, randn, type Tensor } from "@tapegrad/tensor";
import { crossEntropy, noGrad, type Var } from "@tapegrad/autograd";
import { SGD, clipGradNorm } from "@tapegrad/optim";
import { Linear, ReLU, Sequential } from "@tapegrad/nn";
import { readSafetensors, toTensor, writeSafetensors } from "@tapegrad/io";
// Type-only: puts the other packages' declaration files in the program, so they are checked too.
export type * as compress from "@tapegrad/compress";
export type * as privacy from "@tapegrad/privacy";

const rng = new Rng(0);
const n = 128;
const x: Tensor = randn([n, 8], rng);
const labels = Int32Array.from({ length: n }, (_, i) => {
  const row = x.data.subarray(i * 8, i * 8 + 8);
  return row[0]! + row[1]! - row[2]! > 0 ? 1 : 0;
});
const makeModel = (seed: number): Sequential => {
  const r = new Rng(seed);
  return new Sequential(new Linear(8, 16, { rng: r }), new ReLU(), new Linear(16, 2, { rng: r }));
};
const model = makeModel(1);
const opt = new SGD(model.parameters(), { lr: 0.1, momentum: 0.9 });
const losses: number[] = [];
let clippedSteps = 0;
let maxNorm = 0;
for (let step = 0; step < 60; step++) {
  opt.zeroGrad();
  const loss: Var = crossEntropy(model.forward(x) as Var, labels);
  loss.backward();
  const { totalNorm, clipped } = clipGradNorm(model.parameters(), 0.25);
  if (clipped) clippedSteps++;
  maxNorm = Math.max(maxNorm, totalNorm);
  opt.step();
  losses.push(loss.item());
}

const file = process.argv[2]!;
const bytes: Uint8Array = writeSafetensors(model.stateDict(), { metadata: { format: "pt" } });
writeFileSync(file, bytes);
const read = readSafetensors(readFileSync(file));
const copy = makeModel(2);
copy.loadStateDict(Object.fromEntries(read.tensors.map((t) => [t.name, toTensor(t)])));
const rewritten = writeSafetensors(copy.stateDict(), { metadata: { format: "pt" } });
const predict = (m: Sequential): number[] => Array.from((noGrad(() => m.forward(x)) as Var).value.data);
const a = predict(model);
const b = predict(copy);

console.log(JSON.stringify({
  first: losses[0],
  last: losses[losses.length - 1],
  clippedSteps,
  maxNorm,
  names: read.tensors.map((t) => t.name),
  metadata: read.metadata,
  sameBytes: rewritten.length === bytes.length && rewritten.every((v, i) => v === bytes[i]),
  samePredictions: a.length === n * 2 && a.every((v, i) => Object.is(v, b[i])),
  resolved: import.meta.resolve("@tapegrad/tensor"),
}));
`;

const COMPILER_OPTIONS = {
  strict: true,
  target: "ES2022",
  lib: ["ES2022"],
  types: ["node"],
  skipLibCheck: false,
  module: "nodenext",
  moduleResolution: "nodenext",
  rootDir: ".",
  outDir: "out",
};

describe.runIf(!process.env.TAPEGRAD_KERNELS)("packed packages installed into a plain npm project", () => {
  let work = "";
  let tarballs: string[] = [];
  let app = "";

  beforeAll(() => {
    work = mkdtempSync(join(tmpdir(), "tapegrad-pack-"));
    const dest = join(work, "tarballs");
    mkdirSync(dest);
    run("pnpm", ["build"], ROOT);
    for (const p of PACKAGES) run("pnpm", ["pack", "--pack-destination", dest], join(ROOT, "packages", p));
    tarballs = readdirSync(dest).filter((f) => f.endsWith(".tgz")).map((f) => join(dest, f));

    app = join(work, "app");
    mkdirSync(app);
    writeFileSync(join(app, "package.json"), JSON.stringify({ name: "tapegrad-consumer", private: true, type: "module" }, null, 2));
    const typesNode = (JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as { devDependencies: Record<string, string> }).devDependencies["@types/node"]!;
    run("npm", ["install", "--no-audit", "--no-fund", ...tarballs, "typescript@6.0.3", `@types/node@${typesNode}`], app);
  }, TIMEOUT);

  afterAll(() => {
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it("packs one tarball per package, each with LICENSE, README.md and a built dist", () => {
    expect(tarballs.map((t) => t.replace(/^.*[\\/]/, "")).sort()).toEqual(PACKAGES.map((p) => `tapegrad-${p}-0.1.0.tgz`).sort());
    const license = readFileSync(join(ROOT, "LICENSE"), "utf8");
    expect(license).toContain("Copyright (c) 2026 the tapegrad authors");
    for (const t of tarballs) {
      const files = run("tar", ["-tzf", t], work).out.split("\n");
      for (const f of ["package/package.json", "package/LICENSE", "package/README.md", "package/dist/index.js", "package/dist/index.d.ts"]) expect(files, `${t}: ${f}`).toContain(f);
      expect(files.filter((f) => f.endsWith(".tsbuildinfo")), t).toEqual([]);
      expect(run("tar", ["-xOzf", t, "package/LICENSE"], work).out, t).toBe(license);
    }
  });

  it("packed manifests point at dist only, with real semver ranges and complete metadata", () => {
    for (const t of tarballs) {
      const text = run("tar", ["-xOzf", t, "package/package.json"], work).out;
      const pkg = JSON.parse(text) as Record<string, unknown> & { name: string; dependencies?: Record<string, string> };
      expect(text, pkg.name).not.toContain('"source"');
      expect(text, pkg.name).not.toContain("workspace:");
      expect(text, pkg.name).not.toContain("src/index.ts");
      expect(pkg.exports, pkg.name).toEqual({ ".": { types: "./dist/index.d.ts", default: "./dist/index.js" } });
      expect(pkg.main, pkg.name).toBe("./dist/index.js");
      expect(pkg.types, pkg.name).toBe("./dist/index.d.ts");
      for (const [dep, range] of Object.entries(pkg.dependencies ?? {})) expect(range, `${pkg.name} → ${dep}`).toMatch(/^\^\d+\.\d+\.\d+$/);
      expect(pkg.license, pkg.name).toBe("MIT");
      expect(pkg.engines, pkg.name).toEqual({ node: ">=20" });
      expect(pkg.description, pkg.name).toEqual(expect.any(String));
      expect((pkg.keywords as string[]).length, pkg.name).toBeGreaterThan(0);
      expect(pkg.repository, pkg.name).toMatchObject({ type: "git", url: expect.any(String), directory: `packages/${pkg.name.replace("@tapegrad/", "")}` });
    }
  });

  it("compiles a strict trainer against the installed declarations (lib ES2022, types node, no skipLibCheck), with and without lib DOM", () => {
    writeFileSync(join(app, "train.ts"), TRAINER);
    writeFileSync(join(app, "tsconfig.json"), JSON.stringify({ compilerOptions: COMPILER_OPTIONS, files: ["train.ts"] }, null, 2));
    // The WebAssembly types the tensor package declares must also merge with lib DOM's.
    writeFileSync(join(app, "tsconfig.dom.json"), JSON.stringify({ compilerOptions: { ...COMPILER_OPTIONS, lib: ["ES2022", "DOM"], noEmit: true }, files: ["train.ts"] }, null, 2));
    const tsc = join(app, "node_modules", "typescript", "bin", "tsc");
    for (const config of ["tsconfig.dom.json", "tsconfig.json"]) {
      const r = run(process.execPath, [tsc, "-p", config, "--pretty", "false"], app, false);
      expect(r.out, config).toBe("");
      expect(r.status, config).toBe(0);
    }
  }, TIMEOUT);

  it("runs the compiled trainer with node: the loss falls, clipping acts, the safetensors file round-trips", () => {
    const r = run(process.execPath, [join(app, "out", "train.js"), join(work, "model.safetensors")], app);
    const result = JSON.parse(r.out.trim().split("\n").pop()!) as {
      first: number; last: number; clippedSteps: number; maxNorm: number; names: string[]; metadata: Record<string, string>;
      sameBytes: boolean; samePredictions: boolean; resolved: string;
    };
    expect(result.last).toBeLessThan(result.first * 0.5);
    expect(result.clippedSteps).toBeGreaterThan(0);
    expect(result.maxNorm).toBeGreaterThan(0.25);
    expect(result.names).toEqual(["0.bias", "0.weight", "2.bias", "2.weight"]);
    expect(result.metadata).toEqual({ format: "pt" });
    expect(result.sameBytes).toBe(true);
    expect(result.samePredictions).toBe(true);
    expect(result.resolved).toMatch(/\/node_modules\/@tapegrad\/tensor\/dist\/index\.js$/);
  }, TIMEOUT);

  it("resolves to dist even for a toolchain that asks for the \"source\" condition", () => {
    for (const p of PACKAGES) {
      const r = run(process.execPath, ["--conditions=source", "--input-type=module", "-e", `console.log(import.meta.resolve("@tapegrad/${p}"))`], app);
      expect(r.out.trim(), p).toMatch(new RegExp(`/node_modules/@tapegrad/${p}/dist/index\\.js$`));
    }
  });
});
